/**
 * `/readyz` on a real Redis Cluster asks every master, not only those of the
 * global slot and the partitions' (issue #11 follow-up): with partitions an
 * HR event's id key (`{<prefix>:event:<id>}`) can hash to any slot, so a
 * master holding none of lastday's tagged slots still serves intake.
 *
 * Two partitions on three masters, with the prefix chosen so the global slot
 * and partition 0 share a master: one master holds no tagged slot. Failover
 * and full coverage are switched off so that master, once killed, stays down
 * while the other masters keep calling the cluster ok — what the old check
 * (CLUSTER INFO of the tagged slots' masters only) answered 200 to.
 */
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { type ClusterRuntime, startClusterRuntime } from '../helpers/clusterRuntime.ts';
import { eventually, testPrefix } from '../helpers/lastday.ts';
import type { TestCluster } from '../helpers/redisCluster.ts';

/** redis-cli --cluster create's ranges for 3 masters. */
const third = (key: string) => Math.min(2, Math.floor(calculateSlot(key) / 5461.34));

let cluster: TestCluster;
let rt: Runtime;
let fixture: ClusterRuntime | undefined;

beforeAll(async () => {
  let prefix = testPrefix();
  while (third(prefix) !== third(`${prefix}:0`)) prefix = testPrefix();
  fixture = await startClusterRuntime({ prefix, env: { LASTDAY_PARTITIONS: 2 } });
  ({ cluster, rt } = fixture);
}, 60_000);
afterAll(async () => {
  await fixture?.stop();
});

describe('/readyz on Redis Cluster', () => {
  it('is 503 while a master that holds only event-id slots is down', async () => {
    const ctx = rt.ctx;
    expect(ctx.partitions.count).toBe(2);
    const tagged = [ctx, ...ctx.partitions.all().map((p) => ctx.shard(p))].map((c) => c.keys.peopleByEnd);
    const used = new Set(await Promise.all(tagged.map((key) => cluster.masterOf(key))));
    const masters = new Set(await Promise.all(['a', 'b', 'c'].map((k) => cluster.masterOf(`{${k}}`))));
    const spare = [...masters].find((m) => !used.has(m));
    expect(spare, `masters ${[...masters]}, tagged slots on ${[...used]}`).toBeDefined();
    // Event ids do land there.
    let eventId = 0;
    while ((await cluster.masterOf(ctx.keys.eventSeen(`ev-${eventId}`))) !== spare) eventId++;

    const ready = await fetch(`${rt.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, redis: true, workers: true });

    for (const port of cluster.ports) {
      const node = cluster.node(port);
      await node.config('SET', 'cluster-require-full-coverage', 'no');
      await node.config('SET', 'cluster-replica-no-failover', 'yes');
      node.disconnect();
    }
    cluster.kill(spare!);

    const down = await eventually(async () => {
      const res = await fetch(`${rt.url}/readyz`);
      return res.status === 503 && ((await res.json()) as { redis: boolean });
    }, 20_000);
    expect(down).toMatchObject({ ready: false, redis: false, workers: true });
    // The masters of lastday's tagged slots still call the cluster ok: asking them alone says ready.
    for (const port of used) {
      const node = cluster.node(port);
      await eventually(async () => String(await node.call('CLUSTER', 'INFO')).includes('cluster_state:ok'));
      node.disconnect();
    }
    expect((await fetch(`${rt.url}/readyz`)).status).toBe(503);
  }, 60_000);
});
