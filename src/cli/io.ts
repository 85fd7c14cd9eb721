/**
 * What a CLI command may touch of the outside world — environment, streams and
 * its exit code — handed in rather than taken from `process`, so a test runs a
 * command in-process and reads what it printed (`runLastday` in ./program.ts).
 * Light on purpose: every command module imports it, and `--help` must stay fast.
 */

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Set by a command that finished but must exit non-zero (a broken chain, overdue milestones). */
  exitCode: number;
}

/** The CLI's exit codes, for scripts. */
export const EXIT = {
  ok: 0,
  /** Failed or refused: a usage error, a refusal by the API, a rejected event, a broken chain. */
  failed: 1,
  /** lastday is not reachable: no API at LASTDAY_URL, no Redis, or the API answers 503. */
  unreachable: 2,
  /** `lastday run overdue` found overdue milestones. */
  overdue: 3,
  /** No such person or action. */
  notFound: 4,
} as const;

/**
 * Ends a command with this exit code and message, printed on stderr as
 * `lastday: <line>` per line, or as is when `bare` (config errors: one line per
 * problem, starting with the field, as the contract shows them).
 */
export class CliExit extends Error {
  override readonly name: string = 'CliExit';
  constructor(
    readonly exitCode: number,
    message: string,
    readonly bare = false,
  ) {
    super(message);
  }
}

/** A wrong flag or argument: exit 1. */
export function usageError(message: string): CliExit {
  return new CliExit(EXIT.failed, message);
}

/** Prints JSON for scripts (`--json`), or the human rendering. */
export function print(io: CliIo, json: boolean | undefined, value: unknown, human: () => string): void {
  io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}

/** Reads a whole stream as UTF-8 (stdin for `enqueue -`). */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}
