/**
 * The people store on Redis with the compact stored shape
 * (src/store/personCodec.ts): a person saved by an earlier version (plain
 * JSON) still reads, saves over with its revision checked, and gets the
 * guard status the domain gives it; what is saved now is the compact shape,
 * much smaller in Redis.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { guardStatus } from '../../src/domain/action.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { LastdayError } from '../../src/domain/errors.ts';
import { testContext } from '../helpers/lastday.ts';
import { plannedNow } from '../helpers/plan.ts';

const raw = new Redis(inject('redisUrl'));
const ctx = await testContext();
afterAll(async () => {
  await ctx.close();
  raw.disconnect();
});

const usage = async (key: string) => Number(await raw.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));

describe('people store', () => {
  it('reads, guards and saves over a record stored as plain JSON by an earlier version', async () => {
    const id = 'old-shape:1';
    const frozen = plannedNow(id);
    const old: PersonRecord = {
      ...frozen,
      rev: 4,
      milestones: frozen.milestones.map((m) =>
        m.name === 'reduce' || m.name === 'freeze' ? { ...m, state: 'done', doneAt: m.dueAt } : m,
      ),
    };
    await raw.set(ctx.keys.person(id), JSON.stringify(old));

    expect(await ctx.people.get(id)).toStrictEqual(old);
    expect(await ctx.people.getMany([id])).toStrictEqual([old]);
    expect(await ctx.actions.guardStatusOf(id)).toBe(guardStatus(old, null));
    expect(await ctx.actions.guardStatusOf(id)).toBe('frozen');

    // The save script reads the old shape's revision: a stale one is refused.
    await expect(ctx.people.save({ ...old, rev: 3 })).rejects.toThrow(LastdayError);
    const saved = await ctx.people.save(old);
    expect(saved.rev).toBe(5);
    expect(JSON.parse((await raw.get(ctx.keys.person(id)))!)).toHaveProperty('$', 2);
    expect(await ctx.people.get(id)).toStrictEqual(saved);
    expect(await ctx.actions.guardStatusOf(id)).toBe('frozen');
    // …and the compact shape's revision too.
    await expect(ctx.people.save(old)).rejects.toThrow(LastdayError);
    expect((await ctx.people.save(saved)).rev).toBe(6);
  });

  it('reads a person with a mark set in the same step, never over a mark already there', async () => {
    const mark = (id: string, value: string) => ({ key: ctx.keys.eventSeen(`mark-${id}`), value });
    expect(await ctx.people.getMarking('marked:none', mark('1', 'first'))).toBeUndefined();
    expect(await raw.get(ctx.keys.eventSeen('mark-1'))).toBe('first');
    expect(await ctx.people.getMarking('marked:none', mark('1', 'second'))).toBeUndefined();
    expect(await raw.get(ctx.keys.eventSeen('mark-1'))).toBe('first');

    const saved = await ctx.people.save(plannedNow('marked:1'));
    expect(await ctx.people.getMarking('marked:1', mark('2', 'x'))).toStrictEqual(saved);
    expect(await raw.get(ctx.keys.eventSeen('mark-2'))).toBe('x');
  });

  it('keeps the snapshot-retention entry with the save, and writes none for a refused save', async () => {
    const id = 'kept-snapshots:1';
    const record = plannedNow(id);
    const member = JSON.stringify([record.cycle, id]);
    const audit = { at: new Date().toISOString(), type: 'test.save', actor: 'tester', personId: id };
    const saved = await ctx.people.save(record, audit);
    expect(await raw.zscore(ctx.keys.snapshotsUntil, member)).toBeNull(); // not asked
    // A stale revision: nothing saved, no entry.
    await expect(ctx.people.save(record, audit, { keepSnapshotsUntilMs: 1_000 })).rejects.toThrow(
      LastdayError,
    );
    expect(await raw.zscore(ctx.keys.snapshotsUntil, member)).toBeNull();
    await ctx.people.save(saved, audit, { keepSnapshotsUntilMs: 2_000 });
    expect(await raw.zscore(ctx.keys.snapshotsUntil, member)).toBe('2000');
    // The same entry EffectsStore.keepSnapshotsUntil writes (the retention task reads it).
    await ctx.effects.keepSnapshotsUntil(id, record.cycle, 3_000);
    expect(await raw.zrange(ctx.keys.snapshotsUntil, 0, -1, 'WITHSCORES')).toEqual([member, '3000']);
  });

  it('stores a scheduled person in well under half the bytes of its plain JSON', async () => {
    const record = plannedNow('later-12345');
    await ctx.people.save(record);
    const compact = await usage(ctx.keys.person('later-12345'));
    await raw.set(ctx.keys.person('plain'), JSON.stringify({ ...record, rev: 1 }));
    const plain = await usage(ctx.keys.person('plain'));
    expect(compact).toBeLessThan(plain / 2);
  });
});
