/**
 * Two `auth.tokens` entries with the same SHA-256 (issue #9 item 10b): tokens
 * are looked up by hash, so one of the two would silently stand for both.
 * `lastday start` refuses the config: exit 1, one line naming the field.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { sha256Hex } from '../../src/http/auth.ts';
import { testPrefix } from '../helpers/lastday.ts';

function startWith(config: unknown): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lastday-tokens-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(REDIS_URL|HOST|PORT|LOG_LEVEL|LASTDAY_.*)$/.test(k)) env[k] = v;
  }
  const child = spawn(process.execPath, ['bin/lastday.js', 'start'], {
    env: {
      ...env,
      REDIS_URL: inject('redisUrl'),
      LASTDAY_PREFIX: testPrefix(),
      LASTDAY_CONFIG: path,
      LASTDAY_DATA_DIR: join(dir, 'data'),
      PORT: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += String(c)));
  // A start that wrongly succeeds would serve forever: stop it after a bound.
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    }),
  );
}

describe('auth.tokens with one hash twice', () => {
  it('stops start-up: exit 1 and one line naming the second entry’s sha256', async () => {
    const hash = sha256Hex('shared-token');
    const { code, stderr } = await startWith({
      auth: {
        tokens: [
          { name: 'ops-viewer', role: 'viewer', sha256: hash },
          // Same hash in capitals: still the same token.
          { name: 'ops-admin', role: 'admin', personId: 'alice', sha256: hash.toUpperCase() },
        ],
      },
    });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^auth\.tokens\.1\.sha256: .*auth\.tokens\.0/);
  });
});
