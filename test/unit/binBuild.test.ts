/**
 * bin/lastday.js runs dist/ in a checkout only while `isFresh` says the build is
 * newer than every input (bin/build.js): a saved, added or removed source makes
 * it stale and the command falls back to the TypeScript sources.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFresh } from '../../bin/build.js';

let root: string;
const past = new Date(Date.now() - 60_000);
const later = new Date(Date.now() - 30_000);

/** Sets `path` (and what `touch` would) to `at`. */
function at(path: string, when: Date): void {
  utimesSync(path, when, when);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'lastday-build-'));
  for (const dir of ['src/cli', 'jobs', 'dist']) mkdirSync(join(root, dir), { recursive: true });
  for (const file of ['src/cli/main.ts', 'jobs/a.ts', 'package.json', 'tsconfig.json']) {
    writeFileSync(join(root, file), '');
    at(join(root, file), past);
  }
  for (const dir of ['src/cli', 'src', 'jobs']) at(join(root, dir), past);
  writeFileSync(join(root, 'dist/.built'), '');
  at(join(root, 'dist/.built'), later);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('isFresh (which code `lastday` runs in a checkout)', () => {
  it('is fresh when the stamp is newer than every source', () => {
    expect(isFresh(root)).toBe(true);
  });

  it('is stale without a stamp', () => {
    unlinkSync(join(root, 'dist/.built'));
    expect(isFresh(root)).toBe(false);
  });

  it('is stale once a source is saved after the build', () => {
    at(join(root, 'src/cli/main.ts'), new Date());
    expect(isFresh(root)).toBe(false);
  });

  it('is stale once a source is removed (its folder changed) or package.json changed', () => {
    unlinkSync(join(root, 'jobs/a.ts'));
    expect(isFresh(root)).toBe(false);
    at(join(root, 'jobs'), past);
    expect(isFresh(root)).toBe(true);
    at(join(root, 'package.json'), new Date());
    expect(isFresh(root)).toBe(false);
  });
});
