/**
 * `lastday enqueue FILE` in-process against a real runtime: the same intake as
 * the API, straight to Redis.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { runCli } from '../helpers/cli.ts';
import { hrEvent } from '../helpers/events.ts';
import { api, postEvent } from '../helpers/http.ts';
import { bearer, eventually, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

const settings = testSettings();
const env = { LASTDAY_PREFIX: settings.env.LASTDAY_PREFIX };
let rt: Runtime;
let dir: string;

beforeAll(async () => {
  rt = await testRuntime(settings);
  dir = mkdtempSync(join(tmpdir(), 'lastday-enqueue-'));
});
afterAll(async () => {
  await rt?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const applied = (personId: string) =>
  eventually(async () => {
    const res = await api(
      rt.url!,
      'GET',
      `/v1/people/${encodeURIComponent(personId)}`,
      undefined,
      bearer(TOKENS.viewer),
    );
    return res.status === 200 && res.body;
  });

describe('lastday enqueue', () => {
  it('sends a file of events and prints the summary of accepted, duplicate and rejected', async () => {
    const known = hrEvent({ personId: 'cli-known' });
    expect((await postEvent(rt.url!, known)).status).toBe(202);
    const fresh = hrEvent({ personId: 'cli/new:1', lastDay: '2030-10-11' });
    const bad = hrEvent({ personId: 'cli-bad', lastDay: '2030-02-30' });
    const ndjson = file('events.ndjson', [fresh, known, bad].map((e) => JSON.stringify(e)).join('\n') + '\n');
    // A JSON array on stdin (`-`) works too, and an all-good run exits 0.
    const another = hrEvent({ personId: 'cli-array' });
    const [res, res2] = await Promise.all([
      runCli(['enqueue', ndjson, '--json'], env),
      runCli(['enqueue', '-', '--json'], env, JSON.stringify([another, known])),
    ]);
    expect(res.code, res.stderr).toBe(1); // a rejected event makes the exit code 1
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({ total: 3, accepted: 1, duplicate: 1, rejected: 1 });
    expect(summary.rejectedEvents[0]).toMatchObject({ index: 2, eventId: bad.eventId });

    expect((await applied('cli/new:1')).lastDay).toBe('2030-10-11');
    const rejected = await api(rt.url!, 'GET', '/v1/hr-events/rejected', undefined, bearer(TOKENS.viewer));
    expect(rejected.body.rejected.find((r: { eventId?: string }) => r.eventId === bad.eventId)).toMatchObject(
      {
        source: 'cli',
      },
    );

    expect(res2.code, res2.stderr).toBe(0);
    expect(JSON.parse(res2.stdout)).toMatchObject({ total: 2, accepted: 1, duplicate: 1, rejected: 0 });
  });

  it('a file that cannot be read: exit 1 naming it', async () => {
    const r = await runCli(['enqueue', join(dir, 'missing.ndjson')], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^lastday: .*missing\.ndjson: ENOENT/);
  });
});
