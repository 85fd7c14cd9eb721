/**
 * WAIT before acknowledging, on single Redis servers: skipped without a
 * replica (it would only add its timeout), confirmed by one when there is one,
 * off with LASTDAY_REPLICA_WAIT_MS=0. The cluster case is in test/cluster/.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ReplicaWait } from '../../src/queues/replicaWait.ts';
import { eventually, testLogger } from '../helpers/lastday.ts';
import { startTestRedis, type TestRedis } from '../helpers/redisServer.ts';

const servers: TestRedis[] = [];
const clients: Redis[] = [];
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(servers.map((s) => s.stop()));
});

describe('ReplicaWait', () => {
  it('skips without a replica, waits for one when there is one, and can be turned off', async () => {
    const primary = await startTestRedis();
    servers.push(primary);
    const redis = new Redis(primary.url);
    clients.push(redis);
    const log = testLogger();
    await redis.set('{t}:x', '1');
    const started = Date.now();
    expect(await new ReplicaWait(redis, '{t}:x', 1000, log).wait()).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(500);

    const replica = await startTestRedis();
    servers.push(replica);
    const r = new Redis(replica.url);
    clients.push(r);
    await r.replicaof('127.0.0.1', primary.port);
    await eventually(async () => /slave0:.*state=online/.test(await redis.info('replication')));
    await redis.set('{t}:x', '2');
    expect(await new ReplicaWait(redis, '{t}:x', 2000, log).wait()).toBe(1);
    expect(await r.get('{t}:x')).toBe('2');
    expect(await new ReplicaWait(redis, '{t}:x', 0, log).wait()).toBeUndefined();
  });
});
