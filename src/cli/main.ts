/** The process entry of `lastday` (bin/lastday.js): the program on this process's environment and streams. */
import type { CliIo } from './io.ts';
import { runLastday } from './program.ts';

const io: CliIo = {
  env: process.env,
  // A getter: touching process.stdin opens fd 0, which only `enqueue -` needs.
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
  exitCode: 0,
};

const code = await runLastday(process.argv.slice(2), io);
// The command has finished and closed what it opened (`start` returns only once it
// has stopped). What may remain is fetch's connection pool and timers, which keep
// the process alive for a second or more after the API's last answer: exit now,
// once what was printed is flushed.
const flushed = (stream: NodeJS.WriteStream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
