/**
 * A per-person processing lock: HR events and milestone jobs of one person run
 * one at a time, whichever worker process holds them. Short TTL so a crashed
 * holder frees it, renewed while a live holder works; the optimistic revision on
 * person records is the backstop if a holder still outlives its TTL.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redisClient.ts';
import type { Keys } from './keys.ts';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export class PersonLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlMs = 60_000,
  ) {}

  /** Runs `fn` under the lock; returns `{locked: false}` without running when someone holds it. */
  async withLock<T>(
    personId: string,
    fn: () => Promise<T>,
  ): Promise<{ locked: true; value: T } | { locked: false }> {
    const key = this.keys.personLock(personId);
    const token = randomUUID();
    const ok = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return { locked: false };
    // Renewed while `fn` runs: a holder that is slow (a starved CPU, a slow
    // connector) keeps the person; only a dead one loses it, after the TTL. Without
    // this, two runs of one person's jobs could overlap and record an effect twice.
    const renew = setInterval(
      () => void this.redis.eval(RENEW, 1, key, token, this.ttlMs).catch(() => undefined),
      Math.max(100, Math.floor(this.ttlMs / 3)),
    );
    renew.unref();
    try {
      return { locked: true, value: await fn() };
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }
}
