#!/usr/bin/env node
// The `lastday` command. It runs the compiled dist/ when that is current: always
// in a built package (no src/), and in a checkout while dist/ is newer than every
// source (`npm run build`, or the tests' global setup, builds it). Otherwise, in
// a checkout, it runs the TypeScript sources through tsx, so an edit is never
// answered by stale JavaScript.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/src/cli/main.js', import.meta.url);
const current = !existsSync(source) || (existsSync(built) && (await import('./build.js')).isFresh());
if (current) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
}
