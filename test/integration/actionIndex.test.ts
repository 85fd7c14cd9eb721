/**
 * Actions by id with partitions (src/store/actionIndex.ts) on a single Redis:
 * the same answers with 1 and 4 partitions for an action id reused by another
 * initiator (409 conflict) and repeated with the same body (idempotent); a call
 * by action id reads one partition; an action the index lacks is found by
 * asking every partition and indexed; a claim left by a registration that
 * died before writing its action blocks only other initiators; a start fills
 * in the index for actions written without it; retention drops it with the action.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Context } from '../../src/app/context.ts';
import { LastdayError } from '../../src/domain/errors.ts';
import { settings as guardSettings } from '../helpers/guard.ts';
import { testContext, testPrefix } from '../helpers/lastday.ts';

const system = { name: 'system' };

function settingsFor(prefix: string, partitions: number) {
  const s = guardSettings();
  s.env = { ...s.env, LASTDAY_PREFIX: prefix, LASTDAY_PARTITIONS: partitions };
  return s;
}

/** Two people in different partitions of `ctx` (any two with one partition). */
function twoInitiators(ctx: Context): [string, string] {
  const a = 'ix/initiator-a';
  for (let i = 0; i < 100; i++) {
    const b = `ix/initiator-b:${i}`;
    if (ctx.partitions.count === 1 || ctx.partitions.partitionOf(b) !== ctx.partitions.partitionOf(a))
      return [a, b];
  }
  throw new Error('no second partition found');
}

function request(actionId: string, initiatorId: string, target = 'account:1') {
  return { actionId, initiatorId, kind: 'account.deactivate', target };
}

/** The refusal's code, or 'ok'. */
async function answer(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof LastdayError) return err.code;
    throw err;
  }
}

describe.each([1, 4])('action ids with %i partition(s)', (count) => {
  let ctx: Context;
  const prefix = testPrefix();
  beforeAll(async () => {
    ctx = await testContext(settingsFor(prefix, count));
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('refuses an action id another initiator used (409), answers a repeat with the same body', async () => {
    const [a, b] = twoInitiators(ctx);
    expect(await ctx.guard.register(request('ix-1', a), system)).toMatchObject({ state: 'pending' });
    expect(await ctx.guard.register(request('ix-1', a), system)).toMatchObject({ state: 'pending' });
    expect(await answer(ctx.guard.register(request('ix-1', b), system))).toBe('conflict');
    expect(await answer(ctx.guard.register(request('ix-1', a, 'account:2'), system))).toBe('conflict');
    // Only the first initiator's action exists, wherever one looks.
    expect(await ctx.guard.get('ix-1')).toMatchObject({ actionId: 'ix-1', initiatorId: a });
    const found = await Promise.all(ctx.partitions.all().map((p) => ctx.shard(p).actions.get('ix-1')));
    expect(found.filter(Boolean)).toHaveLength(1);
    expect((await ctx.guard.cancel('ix-1', system)).state).toBe('cancelled');
  });
});

/**
 * A MONITOR connection (what ioredis's monitor() opens), tried again when it
 * loses its start-up race: when the first MONITOR line arrives in the same read
 * as MONITOR's OK (other test files keep this Redis busy), ioredis is not yet in
 * monitoring mode and fails with "Command queue state error", once for every
 * line of that read. That connection is closed and another opened; nothing is
 * missed, the test marks its own start with a PING after this.
 */
async function monitorOf(client: Redis, attempts = 5): Promise<Redis> {
  for (let attempt = 1; ; attempt++) {
    const monitor = client.duplicate({ monitor: true, lazyConnect: false });
    try {
      await new Promise<void>((resolve, reject) => {
        // `on`, not `once`: a lost race fails every line of that read, one
        // error each; the later ones must not go unhandled.
        monitor.on('error', reject);
        monitor.once('monitoring', () => resolve());
      });
      return monitor;
    } catch (err) {
      monitor.disconnect();
      if (attempt >= attempts || !String((err as Error).message).includes('Command queue state error'))
        throw err;
    }
  }
}

describe('action ids with 4 partitions', () => {
  let ctx: Context;
  // The MONITOR connection is a duplicate of `client`: both are closed.
  let client: Redis | undefined;
  let monitor: Redis | undefined;
  const prefix = testPrefix();
  beforeAll(async () => {
    ctx = await testContext(settingsFor(prefix, 4));
  });
  afterAll(async () => {
    monitor?.disconnect();
    client?.disconnect();
    await ctx?.close();
  });

  it('reads one partition for a call by action id', async () => {
    const [, b] = twoInitiators(ctx);
    await ctx.guard.register(request('ix-one-read', b), system);
    const home = ctx.shardOf(b).keys.action('ix-one-read');
    const seen: string[][] = [];
    client = new Redis(inject('redisUrl'));
    monitor = await monitorOf(client);
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.includes(prefix))) seen.push(args);
    });
    // MONITOR sees a command only after it has started: one PING marks the start.
    await ctx.redis.ping(`start ${prefix}`);
    await ctx.guard.get('ix-one-read');
    await ctx.guard.gate('ix-one-read', system);
    await ctx.redis.ping(`end ${prefix}`);
    await new Promise<void>((resolve) => {
      const done = () => (seen.some((c) => c.includes(`end ${prefix}`)) ? resolve() : setTimeout(done, 10));
      done();
    });
    // get: one HGETALL of the action; gate: its one script (and the first
    // allow's audit). Every action key read or written is the home partition's.
    const homePrefix = `${ctx.shardOf(b).prefix}:`;
    const actionArgs = seen.flatMap((c) => c.filter((a) => a.includes(':action:')));
    expect(actionArgs.length).toBeGreaterThan(0);
    expect(actionArgs.every((a) => a.startsWith(homePrefix))).toBe(true);
    expect(seen.filter((c) => c[0]?.toLowerCase() === 'hgetall' && c.includes(home))).toHaveLength(1);
    expect(seen.filter((c) => c[0]?.toLowerCase() === 'hgetall')).toHaveLength(1);
    expect(seen.filter((c) => c[0]?.toLowerCase() === 'hget' && c[1] === ctx.keys.actionHome)).toHaveLength(
      2,
    );
  });

  it('finds an action the index lacks by asking every partition, and indexes it', async () => {
    const [a] = twoInitiators(ctx);
    await ctx.guard.register(request('ix-unindexed', a), system);
    await ctx.redis.hdel(ctx.keys.actionHome, 'ix-unindexed');
    expect((await ctx.guard.get('ix-unindexed')).initiatorId).toBe(a);
    expect(await ctx.redis.hget(ctx.keys.actionHome, 'ix-unindexed')).toBe(a);
  });

  it('a claim whose action was never written (a crash between the two) blocks only other initiators', async () => {
    const [a, b] = twoInitiators(ctx);
    expect(await ctx.actionIndex?.claim('ix-orphan', a)).toBe(a);
    expect(await answer(ctx.guard.get('ix-orphan'))).toBe('not_found');
    expect(await answer(ctx.guard.register(request('ix-orphan', b), system))).toBe('conflict');
    expect(await ctx.guard.register(request('ix-orphan', a), system)).toMatchObject({ state: 'pending' });
    expect((await ctx.guard.get('ix-orphan')).initiatorId).toBe(a);
  });

  it('a start fills in the index for actions written without it', async () => {
    const [a, b] = twoInitiators(ctx);
    await ctx.guard.register(request('ix-old', a), system);
    await ctx.redis.del(ctx.keys.actionHome, ctx.keys.actionHomeComplete);
    const again = await testContext(settingsFor(prefix, 4));
    try {
      expect(await again.redis.hget(again.keys.actionHome, 'ix-old')).toBe(a);
      expect(await again.redis.exists(again.keys.actionHomeComplete)).toBe(1);
      expect(await answer(again.guard.register(request('ix-old', b), system))).toBe('conflict');
    } finally {
      await again.close();
    }
  });

  it('retention drops a deleted action from the index: its id can be registered anew', async () => {
    const [a, b] = twoInitiators(ctx);
    await ctx.guard.register(request('ix-pruned', a), system);
    await ctx.guard.cancel('ix-pruned', system);
    const batch = await ctx.shardOf(a).retention.pruneActions('cancelled', Date.now() + 1000, 100);
    expect(batch.deleted).toBeGreaterThanOrEqual(1);
    expect(await ctx.redis.hget(ctx.keys.actionHome, 'ix-pruned')).toBeNull();
    expect(await ctx.guard.register(request('ix-pruned', b), system)).toMatchObject({ state: 'pending' });
    expect((await ctx.guard.get('ix-pruned')).initiatorId).toBe(b);
  });
});
