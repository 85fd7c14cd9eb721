/**
 * `lastday partitions move --to 8` on a real Redis Cluster, from the default
 * 16 (src/app/partitionMove.ts): people keep their plans and delayed jobs in
 * their new partitions, actions (an unknown initiator's too) are found by id
 * and an action id stays single-use across partitions (the action index),
 * directory users and an overdue-alert mark follow their people, a
 * directory-only user's audit entries follow them, and every chain verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/store/partitions.ts';
import { runCli } from '../helpers/cli.ts';
import { type ClusterRuntime, startClusterRuntime } from '../helpers/clusterRuntime.ts';
import { hrEvent } from '../helpers/events.ts';
import { sendHr } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testPrefix } from '../helpers/lastday.ts';

let fixture: ClusterRuntime;
const base = testPrefix();
const PEOPLE = Array.from({ length: 24 }, (_, i) => `cm/person:${i}`);
/** The first `<stem>:<n>` that moves from 16 to 8 partitions (jump hash: those in 8–15). */
function mover(stem: string): string {
  for (let n = 0; ; n++) if (partitionOf(`${stem}:${n}`, 16) >= 8) return `${stem}:${n}`;
}
const DIR_ONLY = mover('cm/directory-only');
const EXTERNAL = mover('cm/external-initiator');
const OVERDUE = PEOPLE.find((p) => partitionOf(p, 16) >= 8)!;

beforeAll(async () => {
  // A horizon beyond everyone's plan: each person has a delayed job to move.
  fixture = await startClusterRuntime({ prefix: base, env: { LASTDAY_HORIZON_HOURS: 24 * 366 } });
}, 60_000);
afterAll(async () => {
  await fixture?.stop();
});

const viewer = bearer(TOKENS.viewer);
const system = bearer(TOKENS.system);
const enc = encodeURIComponent;

describe('partitions move on Redis Cluster', () => {
  it('moves from 16 to 8 partitions keeping people, actions, jobs and audit', async () => {
    let { rt, api } = fixture;
    const { cluster } = fixture;
    expect(rt.ctx.partitions.count).toBe(16);
    for (const personId of PEOPLE) await sendHr(rt, hrEvent({ personId, lastDay: '2027-03-01' }));
    // Two initiators in different partitions, before and after: the same action id is single-use.
    const other = PEOPLE.find(
      (p) => rt.ctx.partitions.partitionOf(p) !== rt.ctx.partitions.partitionOf(PEOPLE[3]!),
    )!;
    const act = { actionId: 'cm-act', initiatorId: PEOPLE[3], kind: 'account.deactivate', target: 'a:1' };
    expect((await api('POST', '/v1/actions', act, system)).status).toBe(201);
    expect((await api('POST', '/v1/actions', { ...act, initiatorId: other }, system)).status).toBe(409);
    const ext = { actionId: 'cm-ext', initiatorId: EXTERNAL, kind: 'data.export', target: 'a:2' };
    expect((await api('POST', '/v1/actions', ext, system)).status).toBe(201);
    for (const id of [PEOPLE[5]!, DIR_ONLY]) {
      const grants = [{ id: 'g-crm', system: 'crm', role: 'editor', privileged: false }];
      expect(
        (await api('PUT', `/v1/directory/users/${enc(id)}`, { active: true, grants }, bearer(TOKENS.admin)))
          .status,
      ).toBe(200);
    }
    const mark = (ctx: typeof rt.ctx) => ctx.shardOf(OVERDUE).keys.overdueAlerted(OVERDUE, 1, 'notice');
    await rt.ctx.redis.set(mark(rt.ctx), '1', 'EX', 3600);
    const view = async (personId: string) =>
      (await api('GET', `/v1/people/${enc(personId)}`, undefined, viewer)).body;
    const before = await eventually(async () => {
      const views = await Promise.all(PEOPLE.map(view));
      return views.every((v) => v?.status === 'scheduled') ? views : undefined;
    }, 30_000);
    const dirBefore = (await api('GET', `/v1/directory/users/${enc(DIR_ONLY)}`, undefined, viewer)).body;
    const jobsOf = async (ctx: typeof rt.ctx) =>
      (
        await Promise.all(
          ctx.partitions.all().map((p) => ctx.shard(p).queues.milestones.getJobs(['delayed'])),
        )
      ).flatMap((jobs) => jobs.map((j) => j.id as string));
    const jobs = await jobsOf(rt.ctx);
    expect(jobs.length).toBeGreaterThanOrEqual(PEOPLE.length);
    const moving = PEOPLE.filter((p) => rt.ctx.partitions.partitionOf(p) >= 8);
    expect(moving.length).toBeGreaterThan(0);
    await fixture.stopLastday();

    const env = { REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.nodes, LASTDAY_PREFIX: base };
    const move = await runCli(['partitions', 'move', '--to', '8', '--json'], env);
    expect(move.stderr).toBe('');
    expect(move.code).toBe(0);
    const result = JSON.parse(move.stdout);
    console.info(`partitions move 16 → 8 on the cluster: ${move.stdout.trim()}`);
    // Jump hash: from 16 to 8 only those in partitions 8–15 move.
    expect(result).toMatchObject({ from: 16, to: 8, moved: moving.length, already: false });
    expect(result.stayed).toBe(PEOPLE.length - moving.length);

    rt = await fixture.startLastday({ LASTDAY_PARTITIONS: 8 });
    api = fixture.api;
    const ctx = rt.ctx;
    expect(ctx.partitions.count).toBe(8);
    // People: the same plans, each record in its partition's slot only.
    expect(await Promise.all(PEOPLE.map(view))).toEqual(before);
    expect(await ctx.people.count()).toBe(PEOPLE.length);
    for (const personId of PEOPLE) {
      expect(await ctx.redis.exists(ctx.shardOf(personId).keys.person(personId))).toBe(1);
    }
    // Jobs: every delayed job once, in the partition of its person.
    expect((await jobsOf(ctx)).sort()).toEqual([...jobs].sort());
    // Actions: found by id; the external initiator's is in their partition; ids stay single-use.
    expect((await api('GET', '/v1/actions/cm-act', undefined, viewer)).body).toMatchObject({
      state: 'pending',
    });
    expect((await api('GET', '/v1/actions/cm-ext', undefined, viewer)).body).toMatchObject({
      state: 'pending',
      initiatorId: EXTERNAL,
    });
    expect(await ctx.redis.exists(ctx.shardOf(EXTERNAL).keys.action('cm-ext'))).toBe(1);
    expect((await api('POST', '/v1/actions', { ...act, initiatorId: other }, system)).status).toBe(409);
    expect((await api('POST', '/v1/actions', act, system)).status).toBe(201);
    expect((await api('POST', '/v1/actions/cm-act/gate', undefined, system)).body.decision).toBe('allow');
    // Directory-only user: keys and audit entries in their partition.
    expect((await api('GET', `/v1/directory/users/${enc(DIR_ONLY)}`, undefined, viewer)).body).toEqual(
      dirBefore,
    );
    const dirAudit = await api('GET', `/v1/audit?personId=${enc(DIR_ONLY)}`, undefined, viewer);
    expect(dirAudit.body.entries.map((e: { type: string }) => e.type)[0]).toBe('directory.user_put');
    // The overdue mark is where its person is now, its TTL kept.
    expect(await ctx.redis.ttl(mark(ctx))).toBeGreaterThan(3000);
    // Every chain verifies: the global one, 8 partitions, and the 8 retired ones.
    const verify = await api('GET', '/v1/audit/verify', undefined, viewer);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.partitions).toHaveLength(1 + 8 + (ctx.partitions.layout.retired?.length ?? 0));
    // Every key still starts with `{<prefix>`.
    for (const port of new Set(
      await Promise.all(ctx.partitions.all().map((p) => cluster.masterOf(ctx.shard(p).keys.peopleByEnd))),
    )) {
      const node = cluster.node(port);
      try {
        expect((await node.keys(`*${base}*`)).every((k) => k.startsWith(`{${base}`))).toBe(true);
      } finally {
        node.disconnect();
      }
    }
  }, 180_000);
});
