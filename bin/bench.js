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
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, isFresh } from './build.js';

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
