/**
 * A batch of scripts sent in order (src/store/lua/script.ts `sendInOrder`, the
 * audit appender's way of sending a batch): Redis runs them in the order
 * given, and each call settles on its own — a script's error reply or a
 * missing script fails that call only, as separate sends would.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Script, sendInOrder } from '../../src/store/lua/script.ts';
import { testPrefix } from '../helpers/lastday.ts';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.disconnect());

const push = new Script('testPush', `return redis.call('RPUSH', KEYS[1], ARGV[1])`);
const refuse = new Script('testRefuse', `return redis.error_reply('TEST_REFUSED ' .. ARGV[1])`);
const neverLoaded = new Script('testNeverLoaded', `return 'unused ${testPrefix()}'`);

describe('sendInOrder', () => {
  it('runs a batch in order and settles each call with its own reply or error', async () => {
    await Promise.all([push.load(redis), refuse.load(redis)]);
    const list = `${testPrefix()}:order`;
    const results = await sendInOrder(redis, [
      { script: push, keys: [list], args: ['a'] },
      { script: refuse, keys: [list], args: ['b'] },
      { script: neverLoaded, keys: [list], args: [] },
      { script: push, keys: [list], args: [3] },
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { message: 'TEST_REFUSED b' } });
    expect(results[2]).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/^NOSCRIPT/) },
    });
    expect(results[3]).toEqual({ status: 'fulfilled', value: 2 });
    expect(await redis.lrange(list, 0, -1)).toEqual(['a', '3']);
  });

  it('sends a batch of one, and none', async () => {
    const list = `${testPrefix()}:one`;
    expect(await sendInOrder(redis, [{ script: push, keys: [list], args: ['x'] }])).toEqual([
      { status: 'fulfilled', value: 1 },
    ]);
    expect(await sendInOrder(redis, [])).toEqual([]);
  });
});
