/**
 * Redis connections. Producers (HTTP handlers, the CLI) fail fast so a caller
 * gets an error instead of hanging while Redis is away; workers retry forever
 * (`maxRetriesPerRequest: null`, required by BullMQ for blocking commands).
 * The key prefix is BullMQ's `prefix`, never ioredis `keyPrefix`, which BullMQ
 * does not support.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type ConnectionRole = 'producer' | 'worker';

export function createRedis(url: string, role: ConnectionRole, name = `lastday-${role}`): Redis {
  const common: RedisOptions = {
    connectionName: name,
    lazyConnect: false,
    // Reconnect with a capped backoff; BullMQ ≥ 6.7 resumes workers after long outages.
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  };
  const options: RedisOptions =
    role === 'worker'
      ? { ...common, maxRetriesPerRequest: null, enableReadyCheck: true }
      : { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5_000 };
  return new Redis(url, options);
}

/** Resolves once the connection answers PING, or rejects after `timeoutMs`. */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await redis.ping();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(
    `Redis did not answer within ${timeoutMs} ms: ${(lastError as Error)?.message ?? 'timeout'}`,
  );
}
