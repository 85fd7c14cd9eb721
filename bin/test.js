#!/usr/bin/env node
// `npm test`: the type check, the lint and the vitest suite, side by side. The
// suite mostly waits (Redis, child processes, real-time instants), so the checks
// use cores it leaves idle instead of running first, one after another. The
// checks' output is held and printed after the suite's; the exit code is 1 if
// any of the three failed. Arguments go to vitest (`npm test -- test/unit`).
import { spawn } from 'node:child_process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs `command`; its output is streamed (`inherit`) or held and answered. */
function run(command, args, { inherit = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (err) => resolve({ code: 1, output: `${output}${err.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const checks = [
  { name: 'typecheck', done: run(npm, ['run', '--silent', 'typecheck']) },
  { name: 'lint', done: run(npm, ['run', '--silent', 'lint']) },
];
const suite = await run(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', ...process.argv.slice(2)],
  {
    inherit: true,
  },
);
let failed = suite.code !== 0;
for (const check of checks) {
  const { code, output } = await check.done;
  process.stdout.write(`\n${code === 0 ? '✓' : '✗'} npm run ${check.name}\n${code === 0 ? '' : output}`);
  if (code !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
