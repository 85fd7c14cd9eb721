#!/usr/bin/env node
// `npm test`: the type check, the lint and the vitest suite, side by side. The
// suite mostly waits (Redis, child processes, real-time instants), so the checks
// run beside it at a low priority (nice 10) on the cores it leaves idle, instead
// of first, one after another, and never take CPU from a test waiting against a
// bound. The checks' output is held and printed after the suite's; the exit code
// is 1 if any of the three failed. Arguments go to vitest (`npm test -- test/unit`).
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

/** `npm run <script>` at nice 10 where there is a `nice` (its children inherit it). */
function check(script) {
  const args = ['run', '--silent', script];
  return process.platform === 'win32' ? run(npm, args) : run('nice', ['-n', '10', npm, ...args]);
}

const checks = [
  { name: 'typecheck', done: check('typecheck') },
  { name: 'lint', done: check('lint') },
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
