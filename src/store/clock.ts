/**
 * Redis's clock: one clock every worker shares, asked as a second opinion on
 * "now" before a milestone takes effect (jobs/milestone.ts), so a worker whose
 * own clock runs ahead cannot act early.
 */
import type { RedisClient } from './redisClient.ts';

/** Redis `TIME` as epoch milliseconds. */
export async function redisTimeMs(redis: RedisClient): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
