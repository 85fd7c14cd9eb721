/**
 * A per-person processing lock: HR events and milestone jobs of one person run
 * one at a time, whichever worker process holds them. Short TTL so a crashed
 * holder frees it; the optimistic revision on person records is the backstop if
 * a holder outlives its TTL.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class PersonLock {
  constructor(
    private readonly redis: Redis,
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
    try {
      return { locked: true, value: await fn() };
    } finally {
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }
}
