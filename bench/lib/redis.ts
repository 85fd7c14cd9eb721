/**
 * The bench's own redis-server (free port, temporary dir, no persistence), plus
 * the few Redis reads the cases need. Never touches a Redis it did not start.
 */
import type { RedisClient } from '../../src/queues/connection.ts';
import { startTestRedis, type TestRedis } from '../../test/helpers/redisServer.ts';

export type BenchRedis = TestRedis;

export function startBenchRedis(): Promise<BenchRedis> {
  return startTestRedis({ appendonly: false });
}

/** `used_memory` from INFO memory, in bytes. */
export async function usedMemory(redis: RedisClient): Promise<number> {
  const info = await redis.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

/** `redis-server` version string, for the results file. */
export async function redisVersion(redis: RedisClient): Promise<string> {
  const info = await redis.info('server');
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}
