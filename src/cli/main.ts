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

process.exitCode = await runLastday(process.argv.slice(2), io);
