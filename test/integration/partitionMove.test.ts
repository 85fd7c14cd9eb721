/**
 * `lastday partitions move --to 4` on a single Redis (src/app/partitionMove.ts):
 * people planned under one partition keep their plan, delayed jobs, actions and
 * audit history in their new partitions; built-in directory users move too,
 * including one lastday has no HR record for; the chains verify; a second run is a
 * no-op; the stored count then refuses a start with the old one.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createContext } from '../../src/app/context.ts';
import { partitionOf } from '../../src/store/partitions.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { runCli } from '../helpers/cli.ts';
import { hrEvent } from '../helpers/events.ts';
import { client, sendHr, settings as guardSettings } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testLogger, testPrefix, testRuntime } from '../helpers/lastday.ts';

const prefix = testPrefix();
const PEOPLE = Array.from({ length: 20 }, (_, i) => `mv/person:${i}`);
/** Directory users: one with an HR record, one lastday knows only from the directory. */
const DIR_USERS = [PEOPLE[5]!, 'mv/directory-only:1'];
/** An initiator lastday has no HR record of (a tool acting for someone it does not know). */
const EXTERNAL = 'mv/external-initiator';
let rt: Runtime | undefined;

function settings(env: Record<string, unknown> = {}) {
  const s = guardSettings();
  // A horizon beyond everyone's plan: each person has their one delayed job to move.
  s.env = { ...s.env, LASTDAY_PREFIX: prefix, LASTDAY_HORIZON_HOURS: 24 * 366, ...env };
  return s;
}

/** Two people who land in different partitions of 4. */
function twoApart(): [string, string] {
  const a = PEOPLE[7]!;
  const b = PEOPLE.find((p) => partitionOf(p, 4) !== partitionOf(a, 4))!;
  return [a, b];
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
    const ext = await api(
      'POST',
      '/v1/actions',
      { actionId: 'mv-ext', initiatorId: EXTERNAL, kind: 'data.export', target: 'a:2' },
      bearer(TOKENS.system),
    );
    expect(ext.body.state).toBe('pending');
    // An overdue milestone already alerted on: the mark (with its TTL) moves with the person.
    const mark = rt.ctx.keys.overdueAlerted(PEOPLE[1]!, 1, 'notice');
    await rt.ctx.redis.set(mark, '1', 'EX', 3600);
    for (const id of DIR_USERS) {
      const put = await api(
        'PUT',
        `/v1/directory/users/${encodeURIComponent(id)}`,
        { active: true, grants: [{ id: 'g-crm', system: 'crm', role: 'editor', privileged: false }] },
        bearer(TOKENS.admin),
      );
      expect(put.status).toBe(200);
    }
    const dirView = async (id: string) =>
      (await api('GET', `/v1/directory/users/${encodeURIComponent(id)}`, undefined, bearer(TOKENS.viewer)))
        .body;
    const dirBefore = await Promise.all(DIR_USERS.map(dirView));
    expect(dirBefore.map((u) => u.grants.length)).toEqual([1, 1]);
    const view = async (personId: string) =>
      (await api('GET', `/v1/people/${encodeURIComponent(personId)}`, undefined, bearer(TOKENS.viewer))).body;
    const before = await eventually(async () => {
      const views = await Promise.all(PEOPLE.map(view));
      return views.every((v) => v?.status === 'scheduled') ? views : undefined;
    }, 20_000);
    const jobs = (await rt.ctx.queues.milestones.getJobs(['delayed'])).map((j) => j.id as string);
    expect(jobs.length).toBeGreaterThanOrEqual(PEOPLE.length);
    // A reinstatement of one person requested by another, as the reinstatement
    // route files it (under the person reinstated): it follows that person.
    const [reinstated, requester] = twoApart();
    const at = new Date().toISOString();
    const registered = await rt.ctx.actions.register(
      {
        actionId: 'mv-reinstate',
        initiatorId: requester,
        kind: 'lastday.reinstate',
        target: `person:${reinstated}`,
        state: 'held',
        reason: 'held until a second person approves',
        createdAt: at,
        updatedAt: at,
        heldAt: at,
      },
      'h',
      // Everyone is scheduled by now (the registration script checks it).
      'scheduled',
      { at, type: 'action.registered', actor: 'test', personId: reinstated, actionId: 'mv-reinstate' },
    );
    expect(registered.outcome).toBe('created');
    await rt.stop();
    rt = undefined;

    const move = await runCli(['partitions', 'move', '--to', '4', '--json'], { LASTDAY_PREFIX: prefix });
    expect(move.stderr).toBe('');
    expect(move.code).toBe(0);
    const result = JSON.parse(move.stdout);
    expect(result).toMatchObject({
      from: 1,
      to: 4,
      moved: PEOPLE.length,
      directoryUsers: DIR_USERS.length,
      otherActions: 2,
      overdueMarks: 1,
      already: false,
    });
    expect(result.jobs).toBe(jobs.length);
    const again = await runCli(['partitions', 'move', '--to', '4', '--json'], { LASTDAY_PREFIX: prefix });
    expect(JSON.parse(again.stdout)).toMatchObject({ already: true, moved: 0, directoryUsers: 0 });

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
    // Directory users (the directory-only one too) are in their person's partition, as they were.
    expect(await Promise.all(DIR_USERS.map(dirView))).toEqual(dirBefore);
    for (const id of DIR_USERS) {
      expect(await ctx.redis.exists(ctx.keys.directoryUser(id), ctx.keys.directoryGrants(id))).toBe(0);
      const keys = ctx.shardOf(id).keys;
      expect(await ctx.redis.exists(keys.directoryUser(id), keys.directoryGrants(id))).toBe(2);
    }
    for (const id of jobs) {
      const states = await Promise.all(
        ctx.partitions.all().map((p) => ctx.shard(p).queues.milestones.getJobState(id)),
      );
      expect(states.filter((s) => s === 'delayed')).toHaveLength(1);
    }
    expect(await ctx.queues.milestones.getJobs(['delayed'])).toHaveLength(0);
    const action = await api('GET', '/v1/actions/mv-act', undefined, bearer(TOKENS.viewer));
    expect(action.body).toMatchObject({ actionId: 'mv-act', state: 'pending' });
    // The external initiator's action is in their partition, found by id, and still one of theirs.
    const extAfter = await api('GET', '/v1/actions/mv-ext', undefined, bearer(TOKENS.viewer));
    expect(extAfter.body).toMatchObject({ actionId: 'mv-ext', state: 'pending', initiatorId: EXTERNAL });
    expect(await ctx.shardOf(EXTERNAL).actions.idsOf(EXTERNAL)).toEqual(['mv-ext']);
    expect(await ctx.redis.exists(ctx.keys.action('mv-ext'))).toBe(0);
    expect(await ctx.redis.hget(ctx.keys.actionHome, 'mv-ext')).toBe(EXTERNAL);
    // The reinstatement is in the reinstated person's partition, not the requester's.
    expect(await ctx.redis.exists(ctx.shardOf(reinstated).keys.action('mv-reinstate'))).toBe(1);
    expect(await ctx.redis.exists(ctx.shardOf(requester).keys.action('mv-reinstate'))).toBe(0);
    expect(
      (await api('GET', '/v1/actions/mv-reinstate', undefined, bearer(TOKENS.viewer))).body,
    ).toMatchObject({ state: 'held', initiatorId: requester });
    // The overdue-alert mark is in the person's partition, its TTL kept.
    expect(await ctx.redis.exists(ctx.keys.overdueAlerted(PEOPLE[1]!, 1, 'notice'))).toBe(0);
    const markTtl = await ctx.redis.ttl(ctx.shardOf(PEOPLE[1]!).keys.overdueAlerted(PEOPLE[1]!, 1, 'notice'));
    expect(markTtl).toBeGreaterThan(3000);
    // The directory-only user's audit entries are in their partition's chain.
    const dirOnly = await api(
      'GET',
      `/v1/audit?personId=${encodeURIComponent(DIR_USERS[1]!)}`,
      undefined,
      bearer(TOKENS.viewer),
    );
    expect(dirOnly.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'directory.user_put',
      'partition.moved',
    ]);
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

  it('with the stored count, sweeps directory users left under the global prefix into their partitions', async () => {
    const ctx = rt!.ctx;
    const at = '2026-01-01T00:00:00.000Z';
    // As a build with a global directory wrote them: one user only there, and a
    // stale global copy of one already written to its partition since.
    const legacy = 'mv/legacy-dir:1';
    await ctx.redis.hset(ctx.keys.directoryUser(legacy), { active: '1', updatedAt: at });
    await ctx.redis.hset(
      ctx.keys.directoryGrants(legacy),
      'g-old',
      JSON.stringify({ id: 'g-old', system: 'crm', role: 'viewer', privileged: false }),
    );
    const current = DIR_USERS[1]!;
    const kept = await ctx.directory.get(current);
    await ctx.redis.hset(ctx.keys.directoryUser(current), { active: '0', updatedAt: at });
    await rt!.stop();
    rt = undefined;

    const sweep = await runCli(['partitions', 'move', '--to', '4', '--json'], { LASTDAY_PREFIX: prefix });
    expect(sweep.code).toBe(0);
    expect(JSON.parse(sweep.stdout)).toMatchObject({ already: true, moved: 0, directoryUsers: 1 });

    rt = await testRuntime(settings());
    const after = rt.ctx;
    expect(await after.directory.get(legacy)).toMatchObject({
      active: true,
      grants: [{ id: 'g-old', system: 'crm', role: 'viewer', privileged: false }],
    });
    expect(
      await after.redis.exists(after.keys.directoryUser(legacy), after.keys.directoryGrants(legacy)),
    ).toBe(0);
    // The user written to its partition since is kept; the stale global copy is left alone.
    expect(await after.directory.get(current)).toEqual(kept);
    expect(await after.redis.hget(after.keys.directoryUser(current), 'active')).toBe('0');
  }, 60_000);
});
