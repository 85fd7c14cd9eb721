#!/usr/bin/env node
// `npm run bench`: measures lastday as it ships. The bench's own files (bench/,
// test/helpers) are TypeScript run through tsx, but every import of lastday's
// sources (src/, jobs/) is answered by the compiled dist/ that `npm start` and
// the image run (bin/build.js, rebuilt here when stale). Through tsx they would
// carry its transform's extra work (a `__name(fn, "name")` call each time a
// named closure is created, among others), which the BullMQ baselines, plain
// JavaScript from node_modules, do not pay: the same-run ratios would then
// compare a dev loader against a compiled library. Child processes the bench
// starts (`bin/lastday.js` for the gate's API) run the same dist/.
//
// `LASTDAY_BENCH_SOURCES=1` runs the sources through tsx instead (to compare).
// A first argument naming a `.ts` file runs that bench script instead of the
// cases, the same way: `node bin/bench.js bench/profileIngest.ts 4000`.
//
// The bench process runs with the node flags `npm start` runs lastday with
// (package.json `scripts.start`, the image's ENTRYPOINT has the same): the
// workers under test live in this process, beside the baselines, which get
// the same flags. Started without them, it starts itself again with them.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, isFresh } from './build.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const words = pkg.scripts.start.trim().split(/\s+/);
const startFlags = words.slice(words.indexOf('node') + 1, words.indexOf('bin/lastday.js'));
const missing = startFlags.filter((f) => !process.execArgv.includes(f));
if (missing.length > 0) {
  const child = spawn(
    process.execPath,
    [...missing, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await runBench();
}

async function runBench() {
  if (process.env.LASTDAY_BENCH_SOURCES !== '1') {
    if (!isFresh()) await build();
    // Registered before tsx's hooks, so it runs after them: tsx resolves the
    // `.ts` specifier, this maps the file it found to its compiled twin.
    register('./benchDistHook.js', import.meta.url);
  }
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  const script = process.argv[2]?.endsWith('.ts') ? process.argv.splice(2, 1)[0] : undefined;
  await import(script ? pathToFileURL(resolve(script)).href : '../bench/run.ts');
}
