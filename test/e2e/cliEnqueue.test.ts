/**
 * `lastday enqueue FILE` in-process against a real runtime: the same intake as
 * the API, straight to Redis; every good record goes in even when others are
 * bad; bad NDJSON lines are named by their 1-based line number.
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
    expect(summary).toMatchObject({ total: 3, accepted: 1, duplicate: 1, rejected: 1, unparsable: 0 });
    expect(summary.rejectedEvents[0]).toMatchObject({ index: 2, line: 3, eventId: bad.eventId });

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

  it('submits every good NDJSON line and names each bad one by its 1-based line number', async () => {
    const known = hrEvent({ personId: 'nd-known' });
    expect((await postEvent(rt.url!, known)).status).toBe(202);
    const first = hrEvent({ personId: 'nd-first', lastDay: '2030-11-01' });
    const last = hrEvent({ personId: 'nd-last', lastDay: '2030-11-02' });
    const invalid = hrEvent({ personId: 'nd-invalid', timezone: 'Nowhere/Else' });
    const lines = [
      JSON.stringify(first), // 1
      '{"eventId": "cut-off", ', // 2
      JSON.stringify(known), // 3
      JSON.stringify(invalid), // 4
      '', // 5
      'not json at all\r', // 6
      JSON.stringify(last), // 7
    ];
    const path = file('mixed.ndjson', `${lines.join('\n')}\n`);
    const scripted = await runCli(['enqueue', path, '--json'], env);
    expect(scripted.stderr).toBe('');
    expect(scripted.code).toBe(1);
    const summary = JSON.parse(scripted.stdout);
    expect(summary).toMatchObject({ total: 6, accepted: 2, duplicate: 1, rejected: 1, unparsable: 2 });
    expect(summary.unparsableLines).toEqual([
      { line: 2, error: expect.stringMatching(/JSON/) },
      { line: 6, error: expect.stringMatching(/JSON/) },
    ]);
    expect(summary.rejectedEvents).toEqual([
      {
        index: 2, // among the records that parsed
        line: 4,
        eventId: invalid.eventId,
        issues: [expect.objectContaining({ path: 'person.timezone' })],
      },
    ]);
    expect((await applied('nd-first')).lastDay).toBe('2030-11-01');
    expect((await applied('nd-last')).lastDay).toBe('2030-11-02');

    // For people: the summary, then each bad record in file order.
    const human = await runCli(['enqueue', path], env);
    expect(human.code).toBe(1);
    const out = human.stdout.split('\n');
    // Sent again: the good lines are duplicates now.
    expect(out[0]).toBe('6 events: 0 accepted, 3 duplicate, 1 rejected, 2 unparsable');
    expect(out[1]).toMatch(/^ {2}line 2: not JSON: /);
    expect(out[2]).toMatch(new RegExp(`^ {2}line 4 \\(${invalid.eventId}\\): rejected: person\\.timezone: `));
    expect(out[3]).toMatch(/^ {2}line 6: not JSON: /);
  });

  it('a JSON array that does not parse is one error, and nothing of it is sent', async () => {
    const good = hrEvent({ personId: 'arr-good' });
    const path = file('broken.json', `[${JSON.stringify(good)},\n{"eventId": ]`);
    const r = await runCli(['enqueue', path, '--json'], env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      total: 1,
      accepted: 0,
      unparsable: 1,
      unparsableLines: [{ error: expect.stringMatching(/^not a valid JSON array: /) }],
    });
    const human = await runCli(['enqueue', path], env);
    expect(human.stdout).toMatch(
      /^1 events: 0 accepted, 0 duplicate, 0 rejected, 1 unparsable\n {2}file: not a valid JSON array: /,
    );
    const res = await api(rt.url!, 'GET', '/v1/people/arr-good', undefined, bearer(TOKENS.viewer));
    expect(res.status).toBe(404);
  });

  it('a file that cannot be read: exit 1 naming it', async () => {
    const r = await runCli(['enqueue', join(dir, 'missing.ndjson')], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^lastday: .*missing\.ndjson: ENOENT/);
  });
});
