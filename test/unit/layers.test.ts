/**
 * The layer rule (eslint/layers.js) flags an import that points up and lets
 * one that points down through, with the repository's own ESLint config.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS, layerOf } from '../../eslint/layers.js';

const eslint = new ESLint({ cwd: process.cwd() });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/imports').map((m) => m.message);
}

describe('layer boundaries', () => {
  it.each([
    [
      'src/domain/x.ts',
      'src/store',
      "import { createKeys } from '../store/keys.ts';\nexport const k = createKeys;\n",
    ],
    [
      'src/store/x.ts',
      'src/queues',
      "import { QUEUES } from '../queues/names.ts';\nexport const q = QUEUES;\n",
    ],
    [
      'jobs/ops/x.ts',
      'src/app',
      "import type { Context } from '../../src/app/context.ts';\nexport type C = Context;\n",
    ],
    ['src/guard/x.ts', 'src/app', "export { ROUTES } from '../app/routes.ts';\n"],
    ['src/queues/x.ts', 'jobs', "export const load = () => import('../../jobs/hrEvent.ts');\n"],
  ])('%s importing from %s is flagged', async (file, to, code) => {
    const errors = await layerErrors(file, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`may not import from ${to}`);
  });

  it.each([
    ['src/store/x.ts', "import { QUEUES } from '../domain/ids.ts';\nexport const q = QUEUES;\n"],
    ['jobs/ops/x.ts', "import type { JobPorts } from '../ports.ts';\nexport type P = JobPorts;\n"],
    [
      'src/http/routes/x.ts',
      "import type { Context } from '../../app/context.ts';\nexport type C = Context;\n",
    ],
  ])('%s importing down is allowed', async (file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });

  it('names a layer for every source folder', () => {
    expect(layerOf('src/http/routes/people.ts')).toBe('src/http');
    expect(layerOf('jobs/ops/reconcile.ts')).toBe('jobs');
    expect(layerOf('test/unit/x.ts')).toBeUndefined();
    // No layer may import a layer that imports it (a cycle would make "down" meaningless),
    // except the composition root and the routes it mounts (the API's and the console's).
    for (const [layer, allowed] of Object.entries(LAYERS) as [string, string[]][]) {
      for (const other of allowed) {
        const back = (LAYERS as Record<string, string[]>)[other] ?? [];
        if (back.includes(layer))
          expect([
            ['src/app', 'src/console'],
            ['src/app', 'src/http'],
          ]).toContainEqual([layer, other].sort());
      }
    }
  });
});
