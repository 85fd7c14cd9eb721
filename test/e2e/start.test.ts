/**
 * `npm start` as a whole process (contract section 1): it comes up on the test
 * Redis, runs a compressed timeline end to end over HTTP, and drains on
 * SIGTERM with exit code 0; config errors and a missing Redis stop it with
 * exit code 1 and a message a person can act on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { inject } from 'vitest';
import { freePort } from '../../src/app/embeddedRedis.ts';
import { sha256Hex } from '../../src/http/auth.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { api, postEvent } from '../helpers/http.ts';
import { bearer, eventually, HR_SECRET, TOKENS, testPrefix } from '../helpers/lastday.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastday-e2e-'));
const children: ChildProcess[] = [];

afterAll(() => {
  // Only what this file started, by its own handle.
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The environment of the test process minus anything lastday reads, plus `env`. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(REDIS_URL|HOST|PORT|LOG_LEVEL|LASTDAY_.*)$/.test(k)) base[k] = v;
  }
  return { ...base, ...env };
}

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['bin/lastday.js', 'start'], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c) => (out.stdout += String(c)));
  child.stderr!.on('data', (c) => (out.stderr += String(c)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

function configFile(name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

// Independent processes on their own prefixes and ports: run side by side.
describe.concurrent('lastday start', () => {
  it('serves, runs a compressed timeline, and exits 0 on SIGTERM', async ({ expect }) => {
    const port = await freePort();
    const config = configFile('good.json', {
      policy: { verifyAfterMinutes: 0.02 },
      auth: {
        tokens: [
          { name: 'e2e-admin', role: 'admin', personId: 'e2e-admin', sha256: sha256Hex(TOKENS.admin) },
          { name: 'e2e-viewer', role: 'viewer', sha256: sha256Hex(TOKENS.viewer) },
        ],
      },
    });
    const proc = start({
      REDIS_URL: inject('redisUrl'),
      LASTDAY_PREFIX: testPrefix(),
      LASTDAY_CONFIG: config,
      LASTDAY_HR_WEBHOOK_SECRET: HR_SECRET,
      LASTDAY_DATA_DIR: join(dir, 'data-good'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/readyz`)).status === 200, 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}\nstderr: ${proc.out.stderr}\nstdout: ${proc.out.stdout}`);
    });

    const id = 'e2e/leaver:1';
    const path = `/v1/directory/users/${encodeURIComponent(id)}`;
    const put = await api(
      url,
      'PUT',
      path,
      { active: true, grants: [{ id: 'g-admin', system: 'cms', role: 'admin', privileged: true }] },
      bearer(TOKENS.admin),
    );
    expect(put.status).toBe(200);
    const soon = endingSoon(3);
    const event = hrEvent({
      personId: id,
      lastDay: soon.lastDay,
      endTime: soon.endTime,
      timezone: soon.timezone,
    });
    expect((await postEvent(url, event)).status).toBe(202);

    // Disabled first, grants removed in a second write: wait for both.
    const user = await eventually(async () => {
      const res = await api(url, 'GET', path, undefined, bearer(TOKENS.viewer));
      return res.body?.active === false && res.body.grants?.length === 0 ? res.body : undefined;
    }, 15_000);
    expect(user.active).toBe(false);
    expect(user.grants).toEqual([]);
    const person = await api(
      url,
      'GET',
      `/v1/people/${encodeURIComponent(id)}`,
      undefined,
      bearer(TOKENS.viewer),
    );
    expect(person.body.status).toBe('revoked');
    expect(person.body.endsAt).toBe(soon.endsAt.toISO({ suppressMilliseconds: true }));

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    // A bound, not a timing: a process start on a loaded 2-core machine can take many seconds.
  }, 120_000);

  it('a bad config file and environment: exit 1, one line per problem naming the field', async ({
    expect,
  }) => {
    const config = configFile('bad.json', {
      policy: { reduce: { contractorBusinessDays: 'two' }, weekend: [9] },
      auth: { tokens: [{ name: 'x', role: 'superuser', sha256: sha256Hex('t') }] },
    });
    const proc = start({
      REDIS_URL: inject('redisUrl'),
      LASTDAY_PREFIX: testPrefix(),
      LASTDAY_CONFIG: config,
      LASTDAY_DATA_DIR: join(dir, 'data-bad'),
      PORT: 'eighty',
    });
    expect(await proc.exited).toBe(1);
    const lines = proc.out.stderr.trim().split('\n');
    expect(lines).toContain('policy.reduce.contractorBusinessDays: expected a number');
    expect(lines).toContain('PORT: expected a number');
    expect(lines).toHaveLength(4);
    expect(lines.some((l) => l.startsWith('policy.weekend.0: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('auth.tokens.0.role: '))).toBe(true);
  });

  it('no REDIS_URL and no redis-server on PATH: exit 1 saying how to get Redis', async ({ expect }) => {
    const emptyBin = mkdtempSync(join(tmpdir(), 'lastday-empty-path-'));
    const proc = start({
      PATH: emptyBin,
      LASTDAY_PREFIX: testPrefix(),
      LASTDAY_DATA_DIR: join(dir, 'data-noredis'),
      PORT: String(await freePort()),
    });
    expect(await proc.exited).toBe(1);
    expect(proc.out.stderr).toContain('REDIS_URL');
    expect(proc.out.stderr).toMatch(/install Redis|apt-get install redis-server|brew install redis/);
  });
});
