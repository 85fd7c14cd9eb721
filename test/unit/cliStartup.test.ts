/**
 * `lastday --help` must stay fast in a checkout: what the CLI loads before a
 * command runs (src/cli/main.ts and every module it imports by value, followed
 * transitively) must not reach BullMQ, fastify, ioredis or the other heavy
 * packages; commands import those inside their actions. Walks the sources'
 * static imports instead of timing anything.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HEAVY = [
  'bullmq',
  'fastify',
  'ioredis',
  'zod',
  'luxon',
  'pino',
  'standardwebhooks',
  'cli-table3',
  'cli-progress',
  'tsx',
];

/** Value imports of a TS module (`import type …` and `import { type A }`-only lists are erased). */
function valueImports(source: string): string[] {
  const found: string[] = [];
  const re =
    /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) {
    if (m[5]) {
      found.push(m[5]);
      continue;
    }
    if (m[2]) continue;
    const names = m[3] ?? '';
    const list = /\{([^}]*)\}/.exec(names);
    const onlyTypes =
      list &&
      !names.replace(list[0], '').replace(/,/g, '').trim() &&
      list[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '));
    if (!onlyTypes) found.push(m[4]!);
  }
  return found;
}

function startupGraph(entry: string) {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of valueImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:'))
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('what `lastday --help` loads', () => {
  it('no heavy package is imported before a command runs', () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const { files, packages } = startupGraph(main);
    expect(files.size).toBeGreaterThan(10); // the walk did find the command modules
    expect([...packages].filter((p) => HEAVY.includes(p))).toEqual([]);
    expect([...packages]).toEqual(['commander']);
  });

  it('the walker sees through type-only imports but not value imports', () => {
    expect(
      valueImports(
        [
          "import type { A } from 'bullmq';",
          "import { type B, type C } from 'fastify';",
          "import { type D, E } from 'ioredis';",
          "import F from 'zod';",
          "import 'luxon';",
          "export { G } from './g.ts';",
        ].join('\n'),
      ),
    ).toEqual(['ioredis', 'zod', 'luxon', './g.ts']);
  });
});
