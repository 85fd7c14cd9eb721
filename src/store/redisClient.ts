/**
 * What every store talks to: a single Redis or a Redis Cluster (both speak
 * every command lastday sends). The connections are made in
 * src/queues/connection.ts; the type lives here so stores need not import up.
 */
import calculateSlot from 'cluster-key-slot';
import { Cluster, type Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * Whether one script may touch all of `keys`: always on a single Redis; on a
 * cluster only when they hash to one slot.
 */
export function oneScriptReaches(redis: RedisClient, keys: readonly string[]): boolean {
  if (!isCluster(redis) || keys.length < 2) return true;
  const slot = calculateSlot(keys[0]!);
  return keys.every((key) => calculateSlot(key) === slot);
}
