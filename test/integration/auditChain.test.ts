/**
 * The audit appender on real Redis: entries hashed in Node and chained by one
 * appender per process, each state change and its entry in one script.
 *
 * - Many concurrent writers in one process and a second appender on its own
 *   connection (another process, as far as Redis can tell) share one chain
 *   with no gap and no fork; an appender waits while another has the turn.
 * - A script whose own precondition fails (a stale person revision) appends
 *   nothing and still answers the caller's conflict; the writes pipelined
 *   after it are re-chained, not lost.
 * - A chain that cannot take an entry (corrupt head, entries beyond the head)
 *   refuses the state change with it; a flushed script cache is survived.
 * - An answer lost with the connection: the scripts ioredis sends again after
 *   they ran are not chained a second time, with or without their script cache.
 * - LASTDAY_AUDIT_KEY: HMAC-SHA-256 hashes, a chain rewritten without the key
 *   fails, a chain written before the key was set is sealed and verifies, and
 *   the key never reaches a log line.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { runOpsTask } from '../../jobs/ops/tasks.ts';
import type { Context } from '../../src/app/context.ts';
import { createContext } from '../../src/app/context.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { LastdayError } from '../../src/domain/errors.ts';
import { AuditStore } from '../../src/store/audit.ts';
import { AuditChainError } from '../../src/store/auditChain.ts';
import { EffectsStore } from '../../src/store/effects.ts';
import { PeopleStore } from '../../src/store/people.ts';
import { createRedis } from '../../src/queues/connection.ts';
import { chainHasher, contentHash, fieldMap, GENESIS, storedContent } from '../../src/store/auditHash.ts';
import { auditAppendScript } from '../../src/store/lua/scripts.ts';
import { hrEvent } from '../helpers/events.ts';
import { LEGACY_ENTRIES, LEGACY_KEY } from '../helpers/legacyAuditChain.ts';
import { startTestRedis } from '../helpers/redisServer.ts';
import { startReplyCutter } from '../helpers/replyCutter.ts';
import {
  bearer,
  LogCapture,
  TOKENS,
  testContext,
  testLogger,
  testRuntime,
  testSettings,
} from '../helpers/lastday.ts';

const KEY = 'a-test-audit-key-that-must-never-be-logged';
const closers: (() => Promise<void>)[] = [];
const raw = new Redis(inject('redisUrl'));

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  raw.disconnect();
});

async function context(settings = testSettings(), redisUrl?: string): Promise<Context> {
  const ctx = redisUrl
    ? await createContext({ settings, redisUrl, log: testLogger() })
    : await testContext(settings);
  closers.push(() => ctx.close());
  return ctx;
}

const entry = (i: number, personId = `p-${i % 7}`) => ({
  at: new Date().toISOString(),
  type: 'test.entry',
  actor: 'tester',
  personId,
  details: { i },
});

/**
 * Recomputes a chain's hashes with plain SHA-256, as someone who can write
 * Redis but lacks the key can: entries up to `upTo` get new hashes; later ones
 * (whose HMAC they cannot make) keep theirs, re-linked by prevHash.
 */
async function rewriteUnkeyed(
  ctx: Context,
  edit: (seq: number, fields: string[]) => void,
  upTo = Number.MAX_SAFE_INTEGER,
): Promise<void> {
  const rows = await raw.xrange(ctx.keys.auditLog, '-', '+');
  const hasher = chainHasher();
  let prev = GENESIS;
  await raw.del(ctx.keys.auditLog);
  for (const [id, fields] of rows) {
    const seq = Number(id.split('-')[0]);
    const copy = [...fields];
    edit(seq, copy);
    if (copy.includes('prevHash')) copy[copy.indexOf('prevHash') + 1] = prev;
    if (seq <= upTo)
      copy[copy.indexOf('hash') + 1] = hasher.link(prev, seq, contentHash(storedContent(fieldMap(copy))));
    await raw.xadd(ctx.keys.auditLog, id, ...copy);
    prev = fieldMap(copy).hash!;
  }
  await raw.set(ctx.keys.auditHead, prev);
}

describe('the audit appender', () => {
  it('chains concurrent writers of two appenders on one chain with no gap', async () => {
    const settings = testSettings();
    const a = await context(settings);
    const b = await context(settings); // same prefix, own connection and appender
    const N = 50;
    const seqs = await Promise.all(
      Array.from({ length: 2 * N }, (_, i) => (i % 2 ? a : b).audit.append(entry(i))),
    );
    expect(new Set(seqs).size).toBe(2 * N);
    // A turn taken under contention is given back: by the last batch, just after
    // it answers its callers, so allow that one trip (well within the 250 ms lease).
    let held = 1;
    for (let waited = 0; held && waited < 100; waited += 10) {
      held = await raw.exists(a.keys.auditTurn);
      if (held) await new Promise((r) => setTimeout(r, 10));
    }
    expect(held).toBe(0);
    expect(Math.min(...seqs)).toBe(1);
    expect(Math.max(...seqs)).toBe(2 * N);
    const result = await a.audit.verify();
    expect(result).toMatchObject({ ok: true, entries: 2 * N, head: { seq: 2 * N } });
    // Every entry is the one its caller asked for, at the seq it was told.
    const listed = await a.audit.list({ limit: 5000 });
    const iBySeq = new Map(listed.map((e) => [e.seq, e.details.i]));
    seqs.forEach((seq, i) => expect(iBySeq.get(seq)).toBe(i));
  });

  it('waits while another appender holds the turn, then appends', async () => {
    const ctx = await context();
    await ctx.audit.append(entry(0));
    // Another process's appender has the turn (a lease: it expires on its own).
    await raw.set(ctx.keys.auditTurn, 'another-appender', 'PX', 300);
    const seqs = await Promise.all([1, 2, 3].map((i) => ctx.audit.append(entry(i))));
    expect(seqs.sort((x, y) => x - y)).toEqual([2, 3, 4]);
    expect(await raw.exists(ctx.keys.auditTurn)).toBe(0);
    expect(await ctx.audit.verify()).toMatchObject({ ok: true, entries: 4 });
  });

  it('sends a first write (a revoke) ahead of the writes still waiting for the chain, and the writes of a tick as one batch', async () => {
    const ctx = await context();
    const s = await ctx.audit.append(entry(0));
    await new Promise((resolve) => setImmediate(resolve)); // the appender idle
    // Queued in one tick: they go as one batch, the first write ahead of the
    // writes queued before it, and the writes after it keep their order.
    const waiting = [1, 2, 3, 4, 5].map((i) => ctx.audit.append(entry(i)));
    const first = Number(await ctx.audit.run(auditAppendScript, [], [], entry(6), { first: true }));
    const seqs = await Promise.all(waiting);
    const later = await ctx.audit.append(entry(7));
    expect(first).toBeLessThan(Math.max(...seqs));
    // None was sent before the tick's writes were all queued.
    expect(seqs.filter((q) => q < first)).toEqual([]);
    expect(seqs.filter((q) => q > first)).toEqual(seqs.filter((q) => q > first).sort((a, b) => a - b));
    expect(later).toBe(s + 7);
    expect(await ctx.audit.verify()).toMatchObject({ ok: true, entries: s + 7 });
  });

  it('answers a stale revision as a conflict, appends nothing for it, and re-chains the writes after it', async () => {
    const ctx = await context();
    await applyEvent(ctx, hrEvent({ personId: 'stale/1', lastDay: '2027-02-01' }) as HrEvent);
    const record = (await ctx.people.get('stale/1'))!;
    const before = (await ctx.audit.head()).seq;
    const at = new Date().toISOString();
    const calls = [
      ...Array.from({ length: 10 }, (_, i) => ctx.audit.append(entry(i))),
      ctx.people.save(record, { at, type: 'test.saved', actor: 'tester', personId: 'stale/1' }),
      // Same revision again: loses to the save just before it.
      ctx.people.save(record, { at, type: 'test.stale_save', actor: 'tester', personId: 'stale/1' }),
      ctx.effects.transition('stale/1', 'reduce', 'directory', 'done', {}, entry(99, 'stale/1')),
      ctx.effects.transition('stale/1', 'reduce', 'directory', 'done', {}, entry(100, 'stale/1')),
      ...Array.from({ length: 10 }, (_, i) => ctx.audit.append(entry(10 + i))),
    ];
    const results = await Promise.allSettled(calls);
    const saved = results[10]!;
    const stale = results[11]!;
    expect(saved.status).toBe('fulfilled');
    expect(stale.status).toBe('rejected');
    expect((stale as PromiseRejectedResult).reason).toBeInstanceOf(LastdayError);
    expect((stale as PromiseRejectedResult).reason.code).toBe('conflict');
    expect(results[12]).toEqual({ status: 'fulfilled', value: true });
    expect(results[13]).toEqual({ status: 'fulfilled', value: false }); // recorded once
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);

    // 20 bare entries, one save, one effect: nothing for the stale save or the repeat.
    const result = await ctx.audit.verify();
    expect(result).toMatchObject({ ok: true, entries: before + 22 });
    const types = (await ctx.audit.list({ afterSeq: before, limit: 100 })).map((e) => e.type);
    expect(types.filter((t) => t === 'test.saved')).toHaveLength(1);
    expect(types).not.toContain('test.stale_save');
    expect((await ctx.people.get('stale/1'))!.rev).toBe(record.rev + 1);
  });

  it('refuses the state change with its entry when the chain cannot take the entry', async () => {
    const ctx = await context();
    await applyEvent(ctx, hrEvent({ personId: 'refused/1', lastDay: '2027-02-01' }) as HrEvent);
    const record = (await ctx.people.get('refused/1'))!;
    const audit = {
      at: new Date().toISOString(),
      type: 'test.saved',
      actor: 'tester',
      personId: 'refused/1',
    };
    const { seq, hash } = await ctx.audit.head();

    // Entries beyond the stored head: the XADD is refused before anything is written.
    await raw.xadd(ctx.keys.auditLog, `${seq + 5}-0`, 'type', 'forged');
    const ahead = await ctx.people.save(record, audit).catch((e: unknown) => e);
    expect(ahead).toBeInstanceOf(AuditChainError);
    expect((ahead as AuditChainError).reason).toBe('stream_ahead');
    expect((await ctx.people.get('refused/1'))!.rev).toBe(record.rev);
    expect(await ctx.audit.head()).toEqual({ seq, hash });
    await raw.xdel(ctx.keys.auditLog, `${seq + 5}-0`);
    await raw.xsetid(ctx.keys.auditLog, `${seq}-0`);

    // A head that is not a seq: nothing written either.
    await raw.set(ctx.keys.auditSeq, 'garbage');
    const corrupt = await ctx.people.save(record, audit).catch((e: unknown) => e);
    expect(corrupt).toBeInstanceOf(AuditChainError);
    expect((corrupt as AuditChainError).reason).toBe('head_corrupt');
    expect((await ctx.people.get('refused/1'))!.rev).toBe(record.rev);

    // Repaired, the same appender carries on.
    await raw.set(ctx.keys.auditSeq, String(seq));
    await ctx.people.save(record, audit);
    expect((await ctx.people.get('refused/1'))!.rev).toBe(record.rev + 1);
    expect(await ctx.audit.verify()).toMatchObject({ ok: true, entries: seq + 1 });
  });

  it('keeps an entry verifiable whose strings UTF-8 cannot carry (a lone surrogate from JSON)', async () => {
    const ctx = await context();
    // What JSON.parse makes of "\ud800" in a request body: not representable in UTF-8.
    const odd = JSON.parse('"ops\\ud800-x"') as string;
    await ctx.audit.append({ ...entry(1), actor: odd, type: `test.${odd}`, details: { note: odd } });
    await ctx.audit.append(entry(2));
    expect(await ctx.audit.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it('pipelines batches: the next is sent before the one ahead is answered, and a refusal in one re-chains those behind it', async () => {
    const ctx = await context();
    await applyEvent(ctx, hrEvent({ personId: 'piped/1', lastDay: '2027-02-01' }) as HrEvent);
    const record = (await ctx.people.get('piped/1'))!;
    const before = (await ctx.audit.head()).seq;
    // An appender of its own on this chain, on a client that counts the
    // batches (pipelines) sent and not yet answered.
    let outstanding = 0;
    let mostOutstanding = 0;
    const counted = new Proxy(ctx.redis, {
      get(target, key) {
        const value = Reflect.get(target, key, target) as unknown;
        if (key !== 'pipeline' || typeof value !== 'function') {
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return () => {
          const pipeline = target.pipeline();
          const exec = pipeline.exec.bind(pipeline);
          pipeline.exec = async () => {
            mostOutstanding = Math.max(mostOutstanding, ++outstanding);
            try {
              return await exec();
            } finally {
              outstanding--;
            }
          };
          return pipeline;
        };
      },
    });
    const audit = new AuditStore(counted, ctx.keys);
    const people = new PeopleStore(counted, ctx.keys, audit);
    const at = new Date().toISOString();
    const calls = [
      ...Array.from({ length: 3 }, (_, i) => audit.append(entry(i))),
      people.save(record, { at, type: 'test.saved', actor: 'tester', personId: 'piped/1' }),
      // A stale revision in the first batch: the rest of it, and the batch
      // pipelined behind it (planned on what the first was to leave), are refused.
      people.save(record, { at, type: 'test.stale_save', actor: 'tester', personId: 'piped/1' }),
      ...Array.from({ length: 35 }, (_, i) => audit.append(entry(10 + i))),
    ];
    const results = await Promise.allSettled(calls);
    expect(mostOutstanding).toBeGreaterThanOrEqual(2);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect((results[4] as PromiseRejectedResult).reason.code).toBe('conflict');
    const result = await ctx.audit.verify();
    expect(result).toMatchObject({ ok: true, entries: before + 39 });
    // Every write at the seq it was told, once.
    const listed = await ctx.audit.list({ afterSeq: before, limit: 100 });
    const seqs = results.flatMap((r, i) => ((i < 3 || i > 4) && r.status === 'fulfilled' ? [r.value] : []));
    expect(new Set(seqs).size).toBe(38);
    const iBySeq = new Map(listed.map((e) => [e.seq, e.details.i]));
    seqs.forEach((seq, n) => expect(iBySeq.get(seq as number)).toBe(n < 3 ? n : 10 + n - 3));
    expect(listed.map((e) => e.type)).not.toContain('test.stale_save');
  });

  it('survives a Redis that lost its script cache in the middle of a batch', async () => {
    const own = await startTestRedis();
    closers.push(() => own.stop());
    const ctx = await context(testSettings(), own.url);
    await Promise.all(Array.from({ length: 20 }, (_, i) => ctx.audit.append(entry(i))));
    const admin = new Redis(own.url);
    closers.push(async () => admin.disconnect());
    await admin.script('FLUSH');
    await Promise.all(Array.from({ length: 20 }, (_, i) => ctx.audit.append(entry(20 + i))));
    expect(await ctx.audit.verify()).toMatchObject({ ok: true, entries: 40 });
  });
});

describe('an answer lost with the connection', () => {
  for (const flushed of [false, true]) {
    it(`appends each write once when ioredis sends the batches again after they ran${flushed ? ', to a Redis that lost its scripts' : ''}`, async () => {
      const own = await startTestRedis();
      closers.push(() => own.stop());
      const cutter = await startReplyCutter(own.url);
      closers.push(() => cutter.close());
      const ctx = await context(testSettings(), own.url);
      await applyEvent(ctx, hrEvent({ personId: 'lost/1', lastDay: '2027-02-01' }) as HrEvent);
      const record = (await ctx.people.get('lost/1'))!;
      // Stores of their own on a connection through the cutter, as the context builds them.
      const redis = createRedis(cutter.url, 'producer');
      closers.push(async () => redis.disconnect());
      const audit = new AuditStore(redis, ctx.keys);
      const people = new PeopleStore(redis, ctx.keys, audit);
      const effects = new EffectsStore(redis, ctx.keys, audit);
      const before = await audit.append(entry(0));
      const admin = new Redis(own.url);
      closers.push(async () => admin.disconnect());
      cutter.cutNextReply(flushed ? () => admin.script('FLUSH') : undefined);
      const at = new Date().toISOString();
      const results = await Promise.allSettled([
        ...Array.from({ length: 12 }, (_, i) => audit.append(entry(10 + i))),
        people.save(record, { at, type: 'test.saved', actor: 'tester', personId: 'lost/1' }),
        effects.transition('lost/1', 'reduce', 'directory', 'done', {}, entry(30, 'lost/1')),
      ]);
      expect(cutter.cuts).toBe(1);
      // What the first batch ran is in the chain once; its callers are told so.
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as AuditChainError] : []));
      expect(lost.length).toBeGreaterThan(0);
      for (const err of lost) expect(err).toMatchObject({ reason: 'reply_lost' });
      expect(await ctx.audit.verify()).toMatchObject({ ok: true, entries: before + 14 });
      const listed = await ctx.audit.list({ afterSeq: before, limit: 100 });
      expect(listed.map((e) => e.details.i ?? e.type).sort()).toEqual(
        [...Array.from({ length: 12 }, (_, i) => 10 + i), 30, 'test.saved'].sort(),
      );
      results.slice(0, 12).forEach((r, i) => {
        if (r.status === 'fulfilled') expect(listed.find((e) => e.seq === r.value)?.details.i).toBe(10 + i);
      });
      expect((await ctx.people.get('lost/1'))!.rev).toBe(record.rev + 1);
    });
  }
});

describe('the person index', () => {
  it('keeps the seqs of a person in one hash field, and still reads the list an earlier version kept', async () => {
    const ctx = await context();
    const first = await ctx.audit.append(entry(1, 'idx/1'));
    // As an earlier version indexed it: a list key per person.
    await raw.hdel(ctx.keys.auditPeople, 'idx/1');
    await raw.rpush(ctx.keys.auditByPerson('idx/1'), first);
    const second = await ctx.audit.append(entry(2, 'idx/1'));
    const third = await ctx.audit.append(entry(3, 'idx/1'));
    await ctx.audit.append(entry(4, 'idx/2'));
    expect(await raw.hget(ctx.keys.auditPeople, 'idx/1')).toBe(`${second},${third}`);
    const listed = await ctx.audit.list({ personId: 'idx/1' });
    expect(listed.map((e) => e.seq)).toEqual([first, second, third]);
    expect(listed.map((e) => e.details.i)).toEqual([1, 2, 3]);
    expect((await ctx.audit.list({ personId: 'idx/1', afterSeq: first })).map((e) => e.seq)).toEqual([
      second,
      third,
    ]);
    expect(await ctx.audit.list({ personId: 'idx/none' })).toEqual([]);
  });
});

describe('compact entries', () => {
  it('stores no prevHash; every reader gives the hash of the entry before', async () => {
    const ctx = await context();
    const seqs: number[] = [];
    for (let i = 1; i <= 4; i++) seqs.push(await ctx.audit.append(entry(i, 'compact/1')));
    const rows = await raw.xrange(ctx.keys.auditLog, '-', '+');
    for (const [, fields] of rows) {
      expect(fields).not.toContain('prevHash');
      // The hash in base64url (43 characters), hex everywhere else.
      expect(fields[fields.indexOf('hash') + 1]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    const hashOf = new Map(rows.map(([id, f]) => [Number(id.split('-')[0]), fieldMap(f).hash!]));
    const expectLinked = (entries: { seq: number; prevHash: string }[]) => {
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) expect(e.prevHash).toBe(e.seq === 1 ? GENESIS : hashOf.get(e.seq - 1));
    };
    expectLinked(await ctx.audit.list({}));
    expectLinked(await ctx.audit.list({ afterSeq: seqs[1]! }));
    expectLinked(await ctx.audit.list({ personId: 'compact/1' }));
    const res = await ctx.audit.verify();
    expect(res).toMatchObject({ ok: true, entries: rows.length });
    expect(res.head.hash).toBe(hashOf.get(rows.length));
    expect((await ctx.audit.list({})).at(-1)!.hash).toMatch(/^[0-9a-f]{64}$/);

    // Taking an entry out still breaks the chain where it was.
    await raw.xdel(ctx.keys.auditLog, `${seqs[2]}-0`);
    expect(await ctx.audit.verify()).toMatchObject({ ok: false, brokenAt: seqs[2] });
    const [afterGap] = await ctx.audit.list({ afterSeq: seqs[2]! });
    expect(afterGap).toMatchObject({ seq: seqs[3], prevHash: '' });
  });
});

describe('LASTDAY_AUDIT_KEY', () => {
  it('makes every hash an HMAC: verifies with the key, not without it, and a rewrite without the key fails', async () => {
    const settings = testSettings({}, { LASTDAY_AUDIT_KEY: KEY });
    const keyed = await context(settings);
    await applyEvent(keyed, hrEvent({ personId: 'keyed/1', lastDay: '2027-02-01' }) as HrEvent);
    await Promise.all(Array.from({ length: 5 }, (_, i) => keyed.audit.append(entry(i))));
    const [first] = await raw.xrange(keyed.keys.auditLog, '1-0', '1-0');
    const f = fieldMap(first![1]);
    expect(f.hash).toBe(chainHasher(KEY).link(GENESIS, 1, contentHash(storedContent(f))));
    expect(await keyed.audit.verify()).toMatchObject({ ok: true, entries: 6 });

    // The same chain read without the key: the first hash is not plain SHA-256.
    const unkeyed = await context({ ...settings, env: { ...settings.env, LASTDAY_AUDIT_KEY: undefined } });
    expect(await unkeyed.audit.verify()).toMatchObject({
      ok: false,
      brokenAt: 1,
      reason: 'entry 1: hash mismatch',
    });

    // Someone who can write Redis edits an entry and recomputes every hash and the head.
    await rewriteUnkeyed(keyed, (seq, fields) => {
      if (seq === 3) fields[fields.indexOf('actor') + 1] = 'someone-else';
    });
    expect(await unkeyed.audit.verify()).toMatchObject({ ok: true }); // undetectable without a key
    expect(await keyed.audit.verify()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no entry is keyed/),
    });
  });

  it('seals a chain written before the key was set; after that a rewrite without the key fails', async () => {
    const plainSettings = testSettings();
    const plain = await context(plainSettings);
    await Promise.all(Array.from({ length: 4 }, (_, i) => plain.audit.append(entry(i))));
    const keyed = await context({ ...plainSettings, env: { ...plainSettings.env, LASTDAY_AUDIT_KEY: KEY } });
    expect(await keyed.audit.verify()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no entry is keyed/),
    });

    expect(await keyed.audit.sealKeyed(new Date().toISOString())).toBe(true);
    expect(await keyed.audit.sealKeyed(new Date().toISOString())).toBe(false); // once
    await keyed.audit.append(entry(9));
    expect(await keyed.audit.verify()).toMatchObject({ ok: true, entries: 6 });
    expect((await keyed.audit.list({ afterSeq: 4, limit: 1 }))[0]).toMatchObject({
      type: 'audit.keyed',
      details: { from: 5 },
    });

    // Editing the unkeyed part and recomputing it: the first keyed entry no longer fits.
    await rewriteUnkeyed(
      keyed,
      (seq, fields) => {
        if (seq === 2) fields[fields.indexOf('actor') + 1] = 'someone-else';
      },
      4,
    );
    expect(await keyed.audit.verify()).toMatchObject({
      ok: false,
      brokenAt: 5,
      reason: 'entry 5: hash mismatch',
    });
    // Recomputing all of it, the keyed part too: no entry is keyed any more.
    await rewriteUnkeyed(keyed, () => undefined);
    expect(await keyed.audit.verify()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no entry is keyed/),
    });
  });

  it('verifies a chain written by the Lua SHA-256 of earlier versions, and seals it under a key', async () => {
    const settings = testSettings();
    const ctx = await context(settings);
    for (const [id, fields] of LEGACY_ENTRIES) await raw.xadd(ctx.keys.auditLog, id, ...fields);
    const last = fieldMap(LEGACY_ENTRIES[LEGACY_ENTRIES.length - 1]![1]);
    await raw.set(ctx.keys.auditSeq, String(LEGACY_ENTRIES.length));
    await raw.set(ctx.keys.auditHead, last.hash!);
    expect(await ctx.audit.verify()).toEqual({
      ok: true,
      entries: 3,
      head: { seq: 3, hash: last.hash },
    });
    // New entries chain on from it.
    await ctx.audit.append(entry(1));
    expect(await ctx.audit.verify()).toMatchObject({ ok: true, entries: 4 });

    const keyed = await context({ ...settings, env: { ...settings.env, LASTDAY_AUDIT_KEY: LEGACY_KEY } });
    await keyed.audit.sealKeyed(new Date().toISOString());
    expect(await keyed.audit.verify()).toMatchObject({ ok: true, entries: 5 });
  });

  it('never writes the key to a log line', async () => {
    const capture = new LogCapture();
    const settings = testSettings({}, { LASTDAY_AUDIT_KEY: KEY, LOG_LEVEL: 'trace' });
    const rt = await testRuntime(settings, { log: testLogger('trace', capture) });
    closers.push(async () => void (await rt.stop()));
    await applyEvent(rt.ctx, hrEvent({ personId: 'log/1', lastDay: '2027-02-01' }) as HrEvent);
    await runOpsTask(rt.ctx, 'reconcile');
    const res = await fetch(`${rt.url}/v1/audit/verify`, { headers: bearer(TOKENS.viewer) });
    expect(await res.json()).toMatchObject({ ok: true });
    expect(capture.lines.length).toBeGreaterThan(0);
    for (const line of capture.lines) expect(line).not.toContain(KEY);
  });
});
