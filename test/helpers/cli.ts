/**
 * Runs the `lastday` CLI for tests. `runCli` runs a command in this process
 * (`runLastday` with its own environment and captured streams): no child
 * process, no TypeScript compile per call. `runCliProcess` runs the real bin as
 * a child process, for the few tests that are about the process itself.
 */
import { spawn } from 'node:child_process';
import { PassThrough, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { runLastday } from '../../src/cli/program.ts';

export const BIN = fileURLToPath(new URL('../../bin/lastday.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: string, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

/**
 * `lastday <args…>` in-process. `env` is the whole environment the command sees
 * (plus REDIS_URL of the test Redis and a quiet LOG_LEVEL unless given), so a
 * test states exactly which LASTDAY_URL / LASTDAY_TOKEN / prefix it uses.
 */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  stdin?: string,
): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runLastday(args, {
    env: { REDIS_URL: inject('redisUrl'), LOG_LEVEL: 'warn', ...env },
    stdin: stdin === undefined ? new PassThrough().end() : Readable.from([stdin]),
    stdout,
    stderr,
    exitCode: 0,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The real bin as a child process (tsx compiles the sources): slow, so only for process-level tests. */
export function runCliProcess(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 90_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: inject('redisUrl'), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lastday ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
