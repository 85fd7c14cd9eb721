/**
 * lastday on a real Redis Cluster (3 masters + 3 replicas on loopback,
 * test/helpers/redisCluster.ts) with one partition (LASTDAY_PARTITIONS=1): the API and the workers on ioredis Cluster
 * connections, every key under the hash-tagged prefix in one slot, the
 * compressed real-time timeline, freeze and the gate, reconcile repairing a
 * lost job, HR events from a plain BullMQ Queue on a Cluster connection, and
 * scripts that still run after the owning master lost its
 * script cache.
 */
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../jobs/ops/reconcile.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { type ClusterRuntime, startClusterRuntime } from '../helpers/clusterRuntime.ts';
import { type client, leaverFreezeScenario, sendHr, statusOf } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testPrefix } from '../helpers/lastday.ts';
import type { TestCluster } from '../helpers/redisCluster.ts';

let cluster: TestCluster;
let rt: Runtime;
let api: ReturnType<typeof client>;
let fixture: ClusterRuntime | undefined;
const base = testPrefix();

beforeAll(async () => {
  // The one-slot layout (step 1), still a valid choice; partitions.test.ts runs the default 16.
  // A horizon of a year: a person planned for 2027-05 has the first milestone's job.
  fixture = await startClusterRuntime({
    prefix: base,
    env: { LASTDAY_PARTITIONS: 1, LASTDAY_HORIZON_HOURS: 24 * 366 },
    policy: { verifyAfterMinutes: 0.02 },
  });
  ({ cluster, rt, api } = fixture);
}, 60_000);
afterAll(async () => {
  await fixture?.stop();
});

describe('lastday on Redis Cluster', () => {
  it('hash-tags the prefix and is ready once the slot owner says cluster_state:ok', async () => {
    expect(rt.ctx.prefix).toBe(`{${base}}`);
    const ready = await fetch(`${rt.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, redis: true });
    // Acknowledged writes wait for the slot owner's replica (WAIT 1 …) and get it.
    expect(await rt.ctx.replicas.wait()).toBe(1);
  });

  it('revokes a person whose day ends seconds ahead; every key starts with {<prefix>', async () => {
    const personId = 'cluster/with:odd id';
    const enc = encodeURIComponent(personId);
    const put = await api(
      'PUT',
      `/v1/directory/users/${enc}`,
      { active: true, grants: [{ id: 'g-admin', system: 'cms', role: 'admin', privileged: true }] },
      bearer(TOKENS.admin),
    );
    expect(put.status).toBe(200);
    const soon = endingSoon(3);
    await sendHr(
      rt,
      hrEvent({ personId, lastDay: soon.lastDay, endTime: soon.endTime, timezone: soon.timezone }),
    );
    const person = await eventually(async () => {
      const p = await api('GET', `/v1/people/${enc}`, undefined, bearer(TOKENS.viewer));
      return p.body?.milestones?.every((m: { state: string }) => m.state === 'done') ? p.body : undefined;
    }, 20_000);
    expect(person.status).toBe('revoked');
    const revoke = person.milestones.find((m: { name: string }) => m.name === 'revoke');
    expect(Date.parse(revoke.doneAt)).toBeGreaterThanOrEqual(Date.parse(revoke.dueAt));
    const user = await api('GET', `/v1/directory/users/${enc}`, undefined, bearer(TOKENS.viewer));
    expect(user.body).toMatchObject({ active: false, grants: [] });

    // Every key of this prefix is on the one master owning its slot, and starts with `{<prefix>`.
    const owner = await cluster.masterOf(`{${base}}`);
    const node = cluster.node(owner);
    try {
      const keys = await node.keys(`*${base}*`);
      expect(keys.length).toBeGreaterThan(10);
      expect(keys.every((k) => k.startsWith(`{${base}}:`))).toBe(true);
    } finally {
      node.disconnect();
    }
    const verify = await api('GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer));
    expect(verify.body.ok).toBe(true);
  });

  it('freeze holds the leaver’s pending actions and the gate holds new ones', async () => {
    const system = bearer(TOKENS.system);
    const leaver = 'cluster-leaver';
    await leaverFreezeScenario(rt, leaver, 'c');
    expect((await api('POST', '/v1/actions/c-late/gate', undefined, system)).body).toMatchObject({
      decision: 'hold',
      state: 'held',
    });
    const approved = await api('POST', '/v1/actions/c-late/approve', undefined, bearer(TOKENS.approver));
    expect(approved.body.state).toBe('approved');
    expect((await api('POST', '/v1/actions/c-late/gate', undefined, system)).body.decision).toBe('allow');
  });

  it('takes HR events from a plain BullMQ Queue on a Cluster connection under {<prefix>}', async () => {
    const seeds = cluster.ports.slice(0, 2).map((port) => ({ host: '127.0.0.1', port }));
    const connection = new Cluster(seeds);
    const queue = new Queue('hr-events', { prefix: `{${base}}`, connection });
    try {
      const event = hrEvent({ personId: 'from-bullmq', lastDay: '2027-06-01' });
      await queue.add(String(event.type), event);
      await eventually(async () => (await statusOf(rt, 'from-bullmq')) === 'scheduled', 15_000);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('reconcile puts back a lost delayed job; scripts run after the master lost its script cache', async () => {
    const ctx = rt.ctx;
    await sendHr(rt, hrEvent({ personId: 'cluster-far', lastDay: '2027-05-05' }));
    const id = milestoneJobId('cluster-far', 1, 'notice');
    await eventually(async () => (await ctx.queues.milestones.getJobState(id)) === 'delayed');
    await ctx.queues.milestones.remove(id);
    expect(await ctx.queues.milestones.getJobState(id)).toBe('unknown');

    const owner = cluster.node(await cluster.masterOf(`{${base}}`));
    try {
      await owner.script('FLUSH');
    } finally {
      owner.disconnect();
    }
    const result = await reconcile(ctx);
    expect(result.rescheduled).toBeGreaterThanOrEqual(1);
    expect(await ctx.queues.milestones.getJobState(id)).toBe('delayed');
    // The audit appender (EVALSHA without fallback) reloads on every master and goes on.
    const register = await api(
      'POST',
      '/v1/actions',
      { actionId: 'c-after-flush', initiatorId: 'someone', kind: 'k', target: 't' },
      bearer(TOKENS.system),
    );
    expect(register.status).toBe(201);
    expect((await api('GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer))).body.ok).toBe(true);
  });
});
