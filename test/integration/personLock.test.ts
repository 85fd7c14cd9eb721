/**
 * The person lock on real Redis, and the read that rides in its round trip
 * (PersonLock.withLockRead): Redis runs the read after the lock's SET, so what
 * it sees is the state under the lock; a holder's lock is never left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/app/context.ts';
import { testContext, testSettings } from '../helpers/lastday.ts';

let ctx: Context;

beforeAll(async () => {
  ctx = await testContext(testSettings());
});
afterAll(async () => {
  await ctx?.close();
});

describe('PersonLock.withLockRead', () => {
  it('reads after the lock is taken, hands the read to fn, and frees the lock after', async () => {
    const key = ctx.keys.personLock('lock/1');
    const result = await ctx.lock.withLockRead(
      'lock/1',
      () => ctx.redis.get(key),
      async (seen) => ({ seen, during: await ctx.redis.get(key) }),
    );
    expect(result.locked).toBe(true);
    if (!result.locked) return;
    // The read ran behind the SET: it saw this holder's token, not an empty key.
    expect(result.value.seen).not.toBeNull();
    expect(result.value.seen).toBe(result.value.during);
    expect(await ctx.redis.exists(key)).toBe(0);
  });

  it('returns the read without running fn when another holder has the person', async () => {
    let ran = false;
    let inner: unknown;
    const outer = await ctx.lock.withLock('lock/2', async () => {
      inner = await ctx.lock.withLockRead(
        'lock/2',
        async () => 'read',
        async () => {
          ran = true;
        },
      );
    });
    expect(outer.locked).toBe(true);
    expect(inner).toEqual({ locked: false, read: 'read' });
    expect(ran).toBe(false);
  });

  it('frees the lock when the read fails, and rethrows', async () => {
    await expect(
      ctx.lock.withLockRead(
        'lock/3',
        () => Promise.reject(new Error('read failed')),
        async () => 'never',
      ),
    ).rejects.toThrow('read failed');
    expect(await ctx.redis.exists(ctx.keys.personLock('lock/3'))).toBe(0);
    expect((await ctx.lock.withLock('lock/3', async () => 'again')).locked).toBe(true);
  });
});
