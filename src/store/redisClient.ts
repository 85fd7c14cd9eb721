/**
 * What every store talks to: a single Redis or a Redis Cluster (both speak
 * every command lastday sends). The connections are made in
 * src/queues/connection.ts; the type lives here so stores need not import up.
 */
import { Cluster, type Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}
