#!/usr/bin/env node
// Compiles src/ and jobs/ to dist/ (one JavaScript file and source map per
// TypeScript file, relative `.ts` imports rewritten to `.js`), copies the console
// views, and stamps the build. No type check: `npm run build` runs tsc first;
// the tests' global setup calls `build()` once per run (about a second) so the
// processes they spawn start from JavaScript instead of compiling through tsx.
//
// bin/lastday.js runs dist/ in a checkout only while the stamp is newer than
// every source (see `isFresh`), so an edit never runs stale code.
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What dist/ is built from: a change to any of these makes it stale. */
const INPUTS = ['src', 'jobs', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
const STAMP = 'dist/.built';

function* files(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  yield { path, stat };
  if (stat.isDirectory()) for (const name of readdirSync(path)) yield* files(join(path, name));
}

/**
 * True when dist/ was built after the last change to its inputs (a directory's
 * mtime moves when a file in it is added, removed or renamed).
 */
export function isFresh(root = ROOT) {
  const stamp = statSync(join(root, STAMP), { throwIfNoEntry: false });
  if (!stamp) return false;
  for (const input of INPUTS)
    for (const { stat } of files(join(root, input))) if (stat.mtimeMs > stamp.mtimeMs) return false;
  return true;
}

/** Builds dist/ from the sources in a fresh directory and swaps it in. */
export async function build(root = ROOT) {
  const startedAt = new Date();
  const { build: esbuild } = await import('esbuild');
  const entryPoints = [];
  for (const dir of ['src', 'jobs'])
    for (const { path, stat } of files(join(root, dir)))
      if (stat.isFile() && path.endsWith('.ts') && !path.endsWith('.d.ts')) entryPoints.push(path);
  const out = mkdtempSync(join(root, '.dist-'));
  chmodSync(out, 0o755); // mkdtemp makes it 0700: dist/ is read by other users (the image runs as `node`)
  try {
    await esbuild({
      absWorkingDir: root,
      entryPoints,
      outdir: out,
      outbase: root,
      // Bundling only so the plugin sees every import: each one stays external.
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      tsconfig: join(root, 'tsconfig.json'),
      logLevel: 'warning',
      plugins: [
        {
          name: 'relative-ts-to-js',
          setup(b) {
            b.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) =>
              args.kind === 'entry-point'
                ? undefined
                : { path: args.path.replace(/\.ts$/, '.js'), external: true },
            );
          },
        },
      ],
    });
    cpSync(join(root, 'src/console/views'), join(out, 'src/console/views'), { recursive: true });
    // The stamp carries the time the build started: a source saved during the
    // build is newer, so the next run sees dist/ as stale.
    writeFileSync(join(out, relative('dist', STAMP)), `${startedAt.toISOString()}\n`);
    utimesSync(join(out, relative('dist', STAMP)), startedAt, startedAt);
    // Swap by two renames: a process starting meanwhile finds one whole build or the other.
    const old = `${out}-old`;
    const hadDist = statSync(join(root, 'dist'), { throwIfNoEntry: false }) !== undefined;
    if (hadDist) renameSync(join(root, 'dist'), old);
    renameSync(out, join(root, 'dist'));
    if (hadDist) rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    throw err;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await build();
