/**
 * `lastday partitions move --to 4` on a single Redis (src/app/partitionMove.ts):
 * people planned under one partition keep their plan, delayed jobs, actions and
 * audit history in their new partitions; the chains verify; a second run is a
 * no-op; the stored count then refuses a start with the old one.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createContext } from '../../src/app/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { runCli } from '../helpers/cli.ts';
import { hrEvent } from '../helpers/events.ts';
import { client, sendHr, settings as guardSettings } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testLogger, testPrefix, testRuntime } from '../helpers/lastday.ts';

const prefix = testPrefix();
const PEOPLE = Array.from({ length: 20 }, (_, i) => `mv/person:${i}`);
let rt: Runtime | undefined;

function settings(env: Record<string, unknown> = {}) {
  const s = guardSettings();
  s.env = { ...s.env, LASTDAY_PREFIX: prefix, ...env };
  return s;
}

afterAll(async () => {
  await rt?.stop();
});

describe('lastday partitions move', () => {
  it('moves everyone from 1 to 4 partitions keeping plans, jobs, actions and audit', async () => {
    rt = await testRuntime(settings());
    let api = client(rt);
    expect(rt.ctx.partitions.count).toBe(1);
    for (const personId of PEOPLE) await sendHr(rt, hrEvent({ personId, lastDay: '2027-03-01' }));
    const reg = await api(
      'POST',
      '/v1/actions',
      { actionId: 'mv-act', initiatorId: PEOPLE[3], kind: 'account.deactivate', target: 'a:1' },
      bearer(TOKENS.system),
    );
    expect(reg.body.state).toBe('pending');
    const view = async (personId: string) =>
      (await api('GET', `/v1/people/${encodeURIComponent(personId)}`, undefined, bearer(TOKENS.viewer))).body;
    const before = await eventually(async () => {
      const views = await Promise.all(PEOPLE.map(view));
      return views.every((v) => v?.status === 'scheduled') ? views : undefined;
    }, 20_000);
    const jobs = (await rt.ctx.queues.milestones.getJobs(['delayed'])).map((j) => j.id as string);
    expect(jobs.length).toBeGreaterThanOrEqual(PEOPLE.length);
    await rt.stop();
    rt = undefined;

    const move = await runCli(['partitions', 'move', '--to', '4', '--json'], { LASTDAY_PREFIX: prefix });
    expect(move.stderr).toBe('');
    expect(move.code).toBe(0);
    const result = JSON.parse(move.stdout);
    expect(result).toMatchObject({ from: 1, to: 4, moved: PEOPLE.length, already: false });
    expect(result.jobs).toBe(jobs.length);
    const again = await runCli(['partitions', 'move', '--to', '4', '--json'], { LASTDAY_PREFIX: prefix });
    expect(JSON.parse(again.stdout)).toMatchObject({ already: true, moved: 0 });

    // The old count now refuses; the stored one (or none given) starts.
    await expect(
      createContext({
        settings: settings({ LASTDAY_PARTITIONS: 1 }),
        redisUrl: inject('redisUrl'),
        log: testLogger(),
      }),
    ).rejects.toThrow('LASTDAY_PARTITIONS=1 but this Redis holds 4 partitions');
    rt = await testRuntime(settings({ LASTDAY_PARTITIONS: 4 }));
    api = client(rt);
    const ctx = rt.ctx;
    expect(ctx.partitions.count).toBe(4);
    expect(new Set(PEOPLE.map((p) => ctx.partitions.partitionOf(p))).size).toBeGreaterThan(1);
    expect(await Promise.all(PEOPLE.map(view))).toEqual(before);
    // Nobody is left under the old (global) prefix.
    for (const personId of PEOPLE) expect(await ctx.redis.exists(ctx.keys.person(personId))).toBe(0);
    expect(await ctx.people.count()).toBe(PEOPLE.length);
    for (const id of jobs) {
      const states = await Promise.all(
        ctx.partitions.all().map((p) => ctx.shard(p).queues.milestones.getJobState(id)),
      );
      expect(states.filter((s) => s === 'delayed')).toHaveLength(1);
    }
    expect(await ctx.queues.milestones.getJobs(['delayed'])).toHaveLength(0);
    const action = await api('GET', '/v1/actions/mv-act', undefined, bearer(TOKENS.viewer));
    expect(action.body).toMatchObject({ actionId: 'mv-act', state: 'pending' });
    const audit = await api(
      'GET',
      `/v1/audit?personId=${encodeURIComponent(PEOPLE[0]!)}`,
      undefined,
      bearer(TOKENS.viewer),
    );
    const types = audit.body.entries.map((e: { type: string }) => e.type);
    expect(types).toContain('partition.moved');
    expect(types.length).toBeGreaterThan(1);
    const verify = await api('GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer));
    expect(verify.body.ok).toBe(true);
    expect(verify.body.partitions).toHaveLength(5);
  }, 60_000);
});
