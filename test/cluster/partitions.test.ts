/**
 * lastday on a real Redis Cluster with the default 16 partitions
 * (docs/cluster.md "Partitions"): the layout stored at the first start with
 * the partitions even over the three masters, people's keys spread over them,
 * the compressed timeline, freeze and the gate across partitions, reconcile
 * repairing a lost job in a partition, every audit chain verified, and a start
 * with another count refused in one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOpsTask } from '../../jobs/ops/tasks.ts';
import { createContext } from '../../src/app/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { partitionPortsOf } from '../../src/app/workers.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import { runCli } from '../helpers/cli.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { type ClusterRuntime, clusterSettings, startClusterRuntime } from '../helpers/clusterRuntime.ts';
import { type client, leaverFreezeScenario, sendHr } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testLogger } from '../helpers/lastday.ts';
import type { TestCluster } from '../helpers/redisCluster.ts';

let cluster: TestCluster;
let rt: Runtime;
let api: ReturnType<typeof client>;
let fixture: ClusterRuntime | undefined;
// A fixed prefix (the cluster is this file's own): the tags, hence which
// partitions share a master, depend on it, and so does the spread of these
// people (1.15–1.51 over random prefixes with 300; 1.19 for this one).
const base = 'lastday-partitions';
const FAR_PEOPLE = 300;
// A horizon of a year: the far people have their first milestone's job to lose.
const options = {
  prefix: `{${base}}`,
  env: { LASTDAY_HORIZON_HOURS: 24 * 366 },
  policy: { verifyAfterMinutes: 0.02 },
};

beforeAll(async () => {
  fixture = await startClusterRuntime(options);
  ({ cluster, rt, api } = fixture);
}, 60_000);
afterAll(async () => {
  await fixture?.stop();
});

/**
 * Keys of this test's prefix on each master, by port: all of them, and the
 * partitions' only; and the global slot's keys by kind (first part after the prefix).
 */
async function keysPerMaster(): Promise<{
  all: Map<number, number>;
  partitions: Map<number, number>;
  global: Record<string, number>;
}> {
  const ctx = rt.ctx;
  const masters = new Set(
    await Promise.all(
      [ctx.keys.peopleByEnd, ...ctx.partitions.all().map((p) => ctx.shard(p).keys.peopleByEnd)].map((k) =>
        cluster.masterOf(k),
      ),
    ),
  );
  const all = new Map<number, number>();
  const partitions = new Map<number, number>();
  const global: Record<string, number> = {};
  for (const port of masters) {
    const node = cluster.node(port);
    try {
      const keys = await node.keys(`*${base}*`);
      expect(keys.every((k) => k.startsWith(`{${base}`))).toBe(true);
      all.set(port, keys.length);
      partitions.set(port, keys.filter((k) => !k.startsWith(`{${base}}`)).length);
      for (const k of keys.filter((k) => k.startsWith(`{${base}}:`))) {
        const kind = k.slice(`{${base}}:`.length).split(':')[0] ?? '';
        global[kind] = (global[kind] ?? 0) + 1;
      }
    } finally {
      node.disconnect();
    }
  }
  return { all, partitions, global };
}

describe('16 partitions on Redis Cluster', () => {
  it('stores the layout at the first start, the partitions even over the three masters', async () => {
    const { partitions } = rt.ctx;
    expect(partitions.count).toBe(16);
    const perMaster = new Map<number, number>();
    for (const p of partitions.all()) {
      expect(partitions.prefixOf(p).startsWith(`{${base}:${p}`)).toBe(true);
      const port = await cluster.masterOf(partitions.keys(p).peopleByEnd);
      perMaster.set(port, (perMaster.get(port) ?? 0) + 1);
    }
    expect([...perMaster.values()].sort()).toEqual([5, 5, 6]);
    const shown = await runCli(['partitions', 'show', '--json'], {
      REDIS_URL: undefined,
      REDIS_CLUSTER_NODES: cluster.nodes,
      LASTDAY_PREFIX: base,
    });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ count: 16 });
    expect((await fetch(`${rt.url}/readyz`)).status).toBe(200);
  });

  it('revokes people whose day ends seconds ahead, each on their own partition', async () => {
    // The built-in directory revokes in one script on each person's partition.
    expect(rt.ctx.connectors.find((c) => c.name === 'directory')?.revokeRecorded).toBeDefined();
    const people = ['p/alpha', 'p/beta:1', 'p/gamma 2', 'p/delta'];
    expect(new Set(people.map((p) => rt.ctx.partitions.partitionOf(p))).size).toBeGreaterThan(1);
    const soon = endingSoon(3);
    for (const personId of people) {
      const put = await api(
        'PUT',
        `/v1/directory/users/${encodeURIComponent(personId)}`,
        { active: true, grants: [{ id: 'g-admin', system: 'cms', role: 'admin', privileged: true }] },
        bearer(TOKENS.admin),
      );
      expect(put.status).toBe(200);
      await sendHr(rt, hrEvent({ personId, ...soon }));
    }
    for (const personId of people) {
      const enc = encodeURIComponent(personId);
      const person = await eventually(async () => {
        const p = await api('GET', `/v1/people/${enc}`, undefined, bearer(TOKENS.viewer));
        return p.body?.milestones?.every((m: { state: string }) => m.state === 'done') ? p.body : undefined;
      }, 20_000);
      expect(person.status).toBe('revoked');
      const user = await api('GET', `/v1/directory/users/${enc}`, undefined, bearer(TOKENS.viewer));
      expect(user.body).toMatchObject({ active: false, grants: [] });
      const audit = await api('GET', `/v1/audit?personId=${enc}`, undefined, bearer(TOKENS.viewer));
      const types = audit.body.entries.map((e: { type: string }) => e.type);
      expect(types.filter((t: string) => t === 'effect.revoke')).toHaveLength(1);
      // Disable and removal in one write: no separate disable entry.
      expect(types.filter((t: string) => t === 'effect.disable')).toHaveLength(0);
      // The directory user is in the person's partition, not the global slot.
      expect(await rt.ctx.redis.exists(rt.ctx.keys.directoryUser(personId))).toBe(0);
      expect(await rt.ctx.redis.exists(rt.ctx.shardOf(personId).keys.directoryUser(personId))).toBe(1);
      // The person's record is in their partition's slot, not the global one;
      // the global people store finds it there.
      expect(await rt.ctx.redis.exists(rt.ctx.keys.person(personId))).toBe(0);
      expect(await rt.ctx.redis.exists(rt.ctx.shardOf(personId).keys.person(personId))).toBe(1);
      expect((await rt.ctx.people.get(personId))?.person.id).toBe(personId);
    }
  });

  it('spreads the partitions’ keys, directory users included, over the masters (max/min ≤ 1.5)', async () => {
    const events = Array.from({ length: FAR_PEOPLE }, (_, i) =>
      hrEvent({ personId: `far-${i}@example.com`, lastDay: '2027-09-01' }),
    );
    await rt.ctx.queues.hrEvents.addBulk(events.map((e) => ({ name: String(e.type), data: e })));
    // Each has a built-in directory user, kept in their partition like the rest of them.
    const at = new Date().toISOString();
    for (let i = 0; i < FAR_PEOPLE; i += 50) {
      await Promise.all(
        events
          .slice(i, i + 50)
          .map((e) =>
            rt.ctx.directory.put(
              (e.person as { id: string }).id,
              { active: true, grants: [{ id: 'g-mail', system: 'mail', role: 'user', privileged: false }] },
              at,
            ),
          ),
      );
    }
    await eventually(async () => {
      const counts = await Promise.all(rt.ctx.partitions.all().map((p) => rt.ctx.shard(p).people.count()));
      return counts.reduce((a, b) => a + b, 0) >= FAR_PEOPLE + 4 ? true : undefined;
    }, 90_000);
    expect(await rt.ctx.people.count()).toBe(FAR_PEOPLE + 4);
    const { all, partitions, global } = await keysPerMaster();
    const counts = [...partitions.values()];
    const totals = [...all.values()];
    const ratio = (xs: number[]) => (Math.max(...xs) / Math.min(...xs)).toFixed(2);
    console.info(
      `keys per master (16 partitions, ${FAR_PEOPLE + 4} people, each a directory user): ` +
        `partitions' ${counts.join(' / ')} (max/min ${ratio(counts)}); ` +
        `all keys ${totals.join(' / ')} (max/min ${ratio(totals)}); ` +
        `the global slot's by kind ${JSON.stringify(global)}`,
    );
    expect(counts.length).toBe(3);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts) / Math.min(...counts)).toBeLessThanOrEqual(1.5);
    // Directory users are in their partitions: none left in the global slot.
    expect(global.dir).toBeUndefined();
    // All keys are not within 1.5 yet: the global slot keeps intake (one
    // idempotency key and one hr-events job per event), docs/cluster.md.
    expect(Math.min(...totals)).toBeGreaterThan(0);
  }, 120_000);

  it('freeze holds the leaver’s pending actions and the gate holds new ones; an approver in another partition', async () => {
    const system = bearer(TOKENS.system);
    const leaver = 'p-leaver';
    await leaverFreezeScenario(rt, leaver, 'p');
    const holds = await api('GET', '/v1/holds', undefined, bearer(TOKENS.viewer));
    expect(holds.status).toBe(200);
    expect(holds.body.total).toBeGreaterThanOrEqual(2);
    const approved = await api('POST', '/v1/actions/p-late/approve', undefined, bearer(TOKENS.approver));
    expect(approved.body.state).toBe('approved');
    expect((await api('POST', '/v1/actions/p-late/gate', undefined, system)).body.decision).toBe('allow');
  });

  it('reconcile (fanned out per partition) puts back a lost delayed job', async () => {
    const ctx = rt.ctx;
    const shard = ctx.shardOf('far-7@example.com');
    const id = milestoneJobId('far-7@example.com', 1, 'notice');
    await eventually(async () => (await shard.queues.milestones.getJobState(id)) === 'delayed');
    await shard.queues.milestones.remove(id);
    expect(await shard.queues.milestones.getJobState(id)).toBe('unknown');
    const result = (await runOpsTask({ ...ctx, ...partitionPortsOf(ctx) }, 'reconcile')) as {
      rescheduled: number;
      partitions: number;
    };
    expect(result.partitions).toBe(16);
    expect(result.rescheduled).toBeGreaterThanOrEqual(1);
    expect(await shard.queues.milestones.getJobState(id)).toBe('delayed');
  });

  it('verifies every chain: ok only when all are', async () => {
    const verify = await api('GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer));
    expect(verify.body.ok).toBe(true);
    expect(verify.body.partitions).toHaveLength(17);
    // Break one partition's chain: verify names it.
    const shard = rt.ctx.shardOf('p/alpha');
    const p = rt.ctx.partitions.partitionOf('p/alpha');
    await rt.ctx.redis.incr(shard.keys.auditSeq);
    const broken = await api('GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer));
    expect(broken.body).toMatchObject({ ok: false, partition: p });
    await rt.ctx.redis.decr(shard.keys.auditSeq);
    expect((await api('GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer))).body.ok).toBe(true);
  });

  it('refuses a start with another count, in one line', async () => {
    const s = clusterSettings(cluster, { ...options, env: { ...options.env, LASTDAY_PARTITIONS: 8 } });
    await expect(createContext({ settings: s, redisUrl: cluster.url, log: testLogger() })).rejects.toThrow(
      'LASTDAY_PARTITIONS=8 but this Redis holds 16 partitions; run "lastday partitions move --to 8"',
    );
    const start = await runCli(['start'], {
      REDIS_URL: undefined,
      REDIS_CLUSTER_NODES: cluster.nodes,
      LASTDAY_PREFIX: base,
      LASTDAY_PARTITIONS: '8',
      PORT: '0',
    });
    expect(start.code).toBe(1);
    expect(start.stderr.trim().split('\n')).toEqual([
      'lastday: LASTDAY_PARTITIONS=8 but this Redis holds 16 partitions; run "lastday partitions move --to 8" with the workers stopped first, or start with LASTDAY_PARTITIONS=16',
    ]);
  });
});
