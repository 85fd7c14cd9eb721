/**
 * The `lastday` command line (commander), runnable in-process: `runLastday(argv,
 * io)` parses, runs one command and answers its exit code, writing only to the
 * given streams. bin/lastday.js calls it with the process's own; tests call it
 * with buffers. Command modules load their heavy dependencies (BullMQ, fastify,
 * ioredis, zod) inside their actions, so `--help` costs only commander.
 */
import { Command, CommanderError } from 'commander';
import { LastdayError } from '../domain/errors.ts';
import { describeApiFailure } from './api.ts';
import { approveCommand } from './commands/approve.ts';
import { auditCommand } from './commands/audit.ts';
import { cancelCommand } from './commands/cancel.ts';
import { demoCommand } from './commands/demo.ts';
import { enqueueCommand } from './commands/enqueue.ts';
import { evidenceCommand } from './commands/evidence.ts';
import { holdsCommand } from './commands/holds.ts';
import { partitionsCommand } from './commands/partitions.ts';
import { queuesCommand } from './commands/queues.ts';
import { reinstateCommand } from './commands/reinstate.ts';
import { rejectedCommand } from './commands/rejected.ts';
import { runCommand } from './commands/run.ts';
import { schemaCommand } from './commands/schema.ts';
import { startCommand } from './commands/start.ts';
import { statusCommand } from './commands/status.ts';
import { tokenCommand } from './commands/token.ts';
import { upcomingCommand } from './commands/upcoming.ts';
import { CliExit, type CliIo, EXIT } from './io.ts';

/** Every command, in the order `--help` lists them. */
export const COMMANDS = [
  startCommand,
  enqueueCommand,
  statusCommand,
  upcomingCommand,
  queuesCommand,
  partitionsCommand,
  auditCommand,
  evidenceCommand,
  rejectedCommand,
  runCommand,
  schemaCommand,
  tokenCommand,
  holdsCommand,
  approveCommand,
  cancelCommand,
  reinstateCommand,
  demoCommand,
] as const;

export function buildProgram(io: CliIo): Command {
  const program = new Command()
    .name('lastday')
    .description(
      'offboarding access revocation: reduce before the last day, revoke at its end, hold what a leaver started',
    )
    // Inherited by every command added below: no process.exit, output to io.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError();
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** Runs `lastday <argv…>` and answers the exit code. */
export async function runLastday(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return io.exitCode;
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: CliIo): number {
  // Commander has printed its own message (unknown option, --help, …).
  if (err instanceof CommanderError) return err.exitCode;
  const say = (line: string) => io.stderr.write(`lastday: ${line}\n`);
  if (err instanceof CliExit) {
    for (const line of err.message.split('\n').filter(Boolean)) {
      if (err.bare) io.stderr.write(`${line}\n`);
      else say(line);
    }
    return err.exitCode;
  }
  const api = describeApiFailure(err);
  if (api) {
    // The first line says what happened; the indented ones after it, what it means.
    api.lines.forEach((line, i) => (i === 0 ? say(line) : io.stderr.write(`${line}\n`)));
    return api.exitCode;
  }
  // Refusals carry the contract's code (self_approval, not_found, …) for scripts.
  if (err instanceof LastdayError) {
    say(`${err.code}: ${err.message}`);
    return err.code === 'not_found' ? EXIT.notFound : EXIT.failed;
  }
  say((err as Error)?.message ?? String(err));
  return EXIT.failed;
}
