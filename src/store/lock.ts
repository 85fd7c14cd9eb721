/**
 * A per-person processing lock: HR events and milestone jobs of one person run
 * one at a time, whichever worker process holds them. Short TTL so a crashed
 * holder frees it, renewed while a live holder works; the optimistic revision on
 * person records is the backstop if a holder still outlives its TTL.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redisClient.ts';
import type { Keys } from './keys.ts';
import { Script } from './lua/script.ts';

const RELEASE = new Script(
  'lockRelease',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
);
const RENEW = new Script(
  'lockRenew',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`,
);

export type Locked<T> = { locked: true; value: T } | { locked: false };

export class PersonLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly ttlMs = 60_000,
  ) {}

  /** Runs `fn` under the lock; returns `{locked: false}` without running when someone holds it. */
  async withLock<T>(personId: string, fn: () => Promise<T>): Promise<Locked<T>> {
    const result = await this.withLockRead(personId, async () => undefined, fn);
    return result.locked ? result : { locked: false };
  }

  /**
   * As withLock, with `read` sent right behind the lock's SET on the lock's
   * connection, so both take one round trip. Redis runs the read after the SET
   * (one connection answers in order; on a cluster the person's keys share the
   * lock's slot), so what it saw no other holder is still changing. `fn` gets
   * what was read; when someone else holds the lock, the read is returned
   * instead (as it was at that failed try). `read` must use the lock's
   * connection (the SET is written first, so anything it sends comes after).
   */
  async withLockRead<R, T>(
    personId: string,
    read: () => Promise<R>,
    fn: (read: R) => Promise<T>,
  ): Promise<{ locked: true; value: T } | { locked: false; read: R }> {
    const key = this.keys.personLock(personId);
    const token = randomUUID();
    const taking = this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
    // Settled together: a read that fails must not leave a lock taken and never released.
    const [ok, got] = await Promise.allSettled([taking, read()]);
    const locked = ok.status === 'fulfilled' && ok.value === 'OK';
    if (got.status === 'rejected') {
      if (locked) await this.release(key, token);
      throw got.reason;
    }
    if (ok.status === 'rejected') throw ok.reason;
    if (!locked) return { locked: false, read: got.value };
    // Renewed while `fn` runs: a holder that is slow (a starved CPU, a slow
    // connector) keeps the person; only a dead one loses it, after the TTL. Without
    // this, two runs of one person's jobs could overlap and record an effect twice.
    const renew = setInterval(
      () => void RENEW.run(this.redis, [key], [token, this.ttlMs]).catch(() => undefined),
      Math.max(100, Math.floor(this.ttlMs / 3)),
    );
    renew.unref();
    try {
      return { locked: true, value: await fn(got.value) };
    } finally {
      clearInterval(renew);
      await this.release(key, token);
    }
  }

  private async release(key: string, token: string): Promise<void> {
    await RELEASE.run(this.redis, [key], [token]).catch(() => undefined);
  }
}
