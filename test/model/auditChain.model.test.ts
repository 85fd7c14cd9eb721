/**
 * Model test of the audit appender (src/store/auditChain.ts) on a real Redis
 * of its own: 2–3 appenders, each an AuditStore on its own connection (a
 * process, as far as Redis can tell) with many concurrent callers, run a
 * generated schedule of waves. A wave's writes start in one tick, without
 * waiting for the waves before (so batches pipeline and appenders race):
 * bare appends, `first` appends, person saves on the revision last seen (may
 * lose to a concurrent one) or on one known stale, and one effect transition
 * asked for by two appenders at once. Between waves, a fault: SCRIPT FLUSH
 * (NOSCRIPT mid-batch), another process holding the turn, an answer lost on
 * appender 0's connection (a proxy drops it after Redis ran the batch; ioredis
 * sends again), or CLIENT KILL of appender 1's connection.
 *
 * Not fast-check `commands`: what is under test is the interleaving of
 * concurrent writes, so a run is one schedule started at once and checked
 * once everything has settled.
 *
 * Invariants after each run:
 * - every promise settles (bounded by a timeout) and the chain verifies (no gap, no fork);
 * - a write that resolved is in the chain exactly once, at the seq it was told, with its content;
 * - a write rejected with `reply_lost` is in the chain exactly once, at the seq named;
 *   any other rejected write left nothing (no entry, no state change);
 * - a stale save never lands (answered `conflict`); a person's rev counts the saves that landed;
 * - an effect transition asked for twice is recorded (and audited) once;
 * - each person's seqs in the index are exactly that person's entries;
 * - with every appender idle, the turn is not held by any of them.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { createContext } from '../../src/app/context.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { createRedis } from '../../src/queues/connection.ts';
import { type AuditInput, AuditStore } from '../../src/store/audit.ts';
import { AuditChainError } from '../../src/store/auditChain.ts';
import { EffectsStore } from '../../src/store/effects.ts';
import { createKeys } from '../../src/store/keys.ts';
import { auditAppendScript } from '../../src/store/lua/scripts.ts';
import { PeopleStore } from '../../src/store/people.ts';
import type { RedisClient } from '../../src/store/redisClient.ts';
import { LastdayError } from '../../src/domain/errors.ts';
import { hrEvent } from '../helpers/events.ts';
import { testLogger, testPrefix, testSettings } from '../helpers/lastday.ts';
import { startTestRedis, type TestRedis } from '../helpers/redisServer.ts';
import { type ReplyCutter, startReplyCutter } from '../helpers/replyCutter.ts';

const RUNS = Number(process.env.FC_RUNS ?? 8);
const PEOPLE = 2;
const OTHER = 'another-process';

type Op =
  | { kind: 'append'; by: number; first: boolean }
  | { kind: 'save'; by: number; person: number; stale: boolean }
  | { kind: 'effect'; by: number; person: number };
type Fault = 'none' | 'flush' | 'turn' | 'cut' | 'kill';
interface Wave {
  ops: Op[];
  fault: Fault;
  /** What separates this wave from the next: nothing, one turn of the event loop, 5 ms. */
  pause: 0 | 1 | 5;
}

const by = fc.nat(2);
const person = fc.nat(PEOPLE - 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append'), by, first: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('save'), by, person, stale: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('effect'), by, person }) },
) as fc.Arbitrary<Op>;
const wave: fc.Arbitrary<Wave> = fc.record({
  ops: fc.array(op, { minLength: 1, maxLength: 14 }),
  fault: fc.constantFrom<Fault>('none', 'none', 'none', 'flush', 'turn', 'cut', 'kill'),
  pause: fc.constantFrom<0 | 1 | 5>(0, 1, 5),
});
const schedule = fc.record({
  appenders: fc.integer({ min: 2, max: 3 }),
  waves: fc.array(wave, { minLength: 2, maxLength: 6 }),
});

/** One write started by the schedule, and how it settled. */
interface Started {
  id: string;
  op: Op;
  /** The expected revision a save was sent with; for an effect, its field. */
  rev?: number;
  effect?: string;
  outcome?: PromiseSettledResult<unknown>;
}

interface Appender {
  redis: RedisClient;
  name: string;
  audit: AuditStore;
  people: PeopleStore;
  effects: EffectsStore;
}

let own: TestRedis;
let admin: Redis;
let template: PersonRecord;
let runCounter = 0;

beforeAll(async () => {
  own = await startTestRedis();
  admin = new Redis(own.url);
  // A real record to save copies of, made by the HR event processor.
  const ctx = await createContext({ settings: testSettings(), redisUrl: own.url, log: testLogger() });
  try {
    await applyEvent(ctx, hrEvent({ personId: 'template', lastDay: '2027-02-01' }) as HrEvent);
    template = (await ctx.people.get('template'))!;
  } finally {
    await ctx.close();
  }
});
afterAll(async () => {
  admin?.disconnect();
  await own?.stop();
});

const personId = (p: number) => `chain/${runCounter}:${p}`;
const recordAt = (p: number, rev: number): PersonRecord => ({
  ...template,
  person: { ...template.person, id: personId(p) },
  rev,
});
const audit = (id: string, personOf?: number): AuditInput => ({
  at: new Date().toISOString(),
  type: 'model.write',
  actor: 'model',
  personId: personOf === undefined ? undefined : personId(personOf),
  details: { id },
});

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function killConnection(name: string): Promise<void> {
  const list = String(await admin.client('LIST'));
  const id = /id=(\d+) .*name=(\S+)/g;
  for (const [, clientId, clientName] of list.matchAll(id)) {
    if (clientName === name) await admin.client('KILL', 'ID', clientId!);
  }
}

async function run(appenderCount: number, waves: Wave[]): Promise<void> {
  runCounter++;
  const keys = createKeys(testPrefix());
  const cutter: ReplyCutter = await startReplyCutter(own.url);
  const appenders: Appender[] = [];
  try {
    for (let i = 0; i < appenderCount; i++) {
      const name = `chain-model-${runCounter}-${i}`;
      // Appender 0 talks through the proxy that can lose an answer.
      const redis = createRedis(i === 0 ? cutter.url : own.url, 'producer', name);
      redis.on('error', () => undefined); // a cut or killed connection: it reconnects
      const store = new AuditStore(redis, keys);
      appenders.push({
        redis,
        name,
        audit: store,
        people: new PeopleStore(redis, keys, store),
        effects: new EffectsStore(redis, keys, store),
      });
    }
    const [a0] = appenders;
    // Every person saved once: rev 1.
    for (let p = 0; p < PEOPLE; p++) await a0!.people.save(recordAt(p, 0), audit(`seed-${p}`, p));
    const seenRev = Array.from({ length: PEOPLE }, () => 1);
    const faulty = waves.some((w) => w.fault === 'cut' || w.fault === 'kill');

    const started: Started[] = [];
    const pending: Promise<void>[] = [];
    let n = 0;
    for (const [w, { ops, fault, pause }] of waves.entries()) {
      for (const o of ops) {
        const s: Started = { id: `w${w}-${n++}`, op: o };
        const app = appenders[o.by % appenders.length]!;
        let promise: Promise<unknown>;
        if (o.kind === 'append') {
          promise = o.first
            ? app.audit.run(auditAppendScript, [], [], audit(s.id), { first: true }).then(Number)
            : app.audit.append(audit(s.id));
        } else if (o.kind === 'save') {
          // Fresh: the newest revision seen answered (a concurrent save may still beat it).
          // Stale: one below it, certainly overtaken.
          s.rev = o.stale ? seenRev[o.person]! - 1 : seenRev[o.person]!;
          promise = app.people.save(recordAt(o.person, s.rev), audit(s.id, o.person)).then((saved) => {
            seenRev[o.person] = Math.max(seenRev[o.person]!, saved.rev);
            return saved.rev;
          });
        } else {
          // The same transition from two appenders at once: recorded once.
          s.effect = `c1.e${w}`;
          const twin: Started = { id: `${s.id}-twin`, op: { ...o, by: o.by + 1 }, effect: s.effect };
          const other = appenders[(o.by + 1) % appenders.length]!;
          const ask = (a: Appender, x: Started) =>
            a.effects.transition(personId(o.person), x.effect!, 'dir', 'done', {}, audit(x.id, o.person));
          started.push(twin);
          pending.push(
            ask(other, twin).then(
              (value) => void (twin.outcome = { status: 'fulfilled', value }),
              (reason: unknown) => void (twin.outcome = { status: 'rejected', reason }),
            ),
          );
          promise = ask(app, s);
        }
        started.push(s);
        pending.push(
          promise.then(
            (value) => void (s.outcome = { status: 'fulfilled', value }),
            (reason: unknown) => void (s.outcome = { status: 'rejected', reason }),
          ),
        );
      }
      if (fault === 'flush') await admin.script('FLUSH');
      else if (fault === 'turn') await admin.set(keys.auditTurn, OTHER, 'PX', 150);
      else if (fault === 'cut') cutter.cutNextReply();
      else if (fault === 'kill') await killConnection(appenders[1]!.name);
      if (pause === 1) await new Promise((r) => setImmediate(r));
      else if (pause === 5) await new Promise((r) => setTimeout(r, 5));
    }
    // No promise hangs.
    await within(Promise.all(pending), 15_000, 'the writes');
    await new Promise((r) => setTimeout(r, 30)); // the last batches' turn release

    await check(keys, a0!.audit, started, faulty);
  } finally {
    for (const a of appenders) a.redis.disconnect();
    await cutter.close();
  }
}

async function check(
  keys: ReturnType<typeof createKeys>,
  store: AuditStore,
  started: Started[],
  faulty: boolean,
): Promise<void> {
  const verified = await store.verify();
  expect(verified, JSON.stringify(verified)).toMatchObject({ ok: true });
  const rows = await admin.xrange(keys.auditLog, '-', '+');
  expect(rows).toHaveLength(verified.entries);
  // Every entry is one write's, and no write is there twice.
  const seqsOf = new Map<string, number[]>();
  const personOfSeq = new Map<number, string>();
  for (const [streamId, fields] of rows) {
    const seq = Number(streamId.split('-')[0]);
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    const { id } = JSON.parse(f.details ?? '{}') as { id: string };
    seqsOf.set(id, [...(seqsOf.get(id) ?? []), seq]);
    if (f.personId) personOfSeq.set(seq, f.personId);
  }
  for (const [id, seqs] of seqsOf) expect(seqs, `${id} appended more than once`).toHaveLength(1);

  const landedRevs = Array.from({ length: PEOPLE }, () => [] as number[]);
  const landedEffects = new Map<string, number>();
  for (const s of started) {
    const out = s.outcome!;
    const at = seqsOf.get(s.id)?.[0];
    const lost =
      out.status === 'rejected' &&
      out.reason instanceof AuditChainError &&
      out.reason.reason === 'reply_lost';
    let landed: boolean;
    if (out.status === 'fulfilled') {
      if (s.op.kind === 'append') {
        expect(at, `${s.id} resolved`).toBe(out.value);
        landed = true;
      } else if (s.op.kind === 'save') {
        landed = true;
      } else landed = out.value === true;
    } else if (lost) {
      expect(at, `${s.id}: reply_lost names its entry`).toBe(
        Number(/entry (\d+)/.exec((out.reason as Error).message)?.[1]),
      );
      landed = true;
    } else {
      // A save that lost to a concurrent one, or a write refused with its connection
      // (ioredis gave up on it): either way, nothing of it may be there.
      const reason = out.reason as Error;
      if (s.op.kind === 'save' && !(reason instanceof LastdayError && reason.code === 'conflict'))
        expect(faulty, reason.stack).toBe(true);
      landed = false;
    }
    expect(at !== undefined, `${s.id} ${landed ? 'landed' : 'did not land'}`).toBe(landed);
    if (s.op.kind === 'save') {
      if (s.op.stale) expect(landed, `stale save ${s.id}`).toBe(false);
      if (landed) landedRevs[s.op.person]!.push(s.rev!);
    }
    if (s.op.kind === 'effect' && landed) {
      const key = `${s.op.person}|${s.effect}`;
      landedEffects.set(key, (landedEffects.get(key) ?? 0) + 1);
    }
  }
  for (let p = 0; p < PEOPLE; p++) {
    // Each landed save moved the revision by one from the one it was sent with.
    const revs = landedRevs[p]!.sort((x, y) => x - y);
    expect(revs).toEqual(revs.map((_, i) => i + 1));
    const stored = await new PeopleStore(admin, keys, store).get(personId(p));
    expect(stored!.rev).toBe(1 + revs.length);
    // The index holds exactly the person's entries.
    const indexed = ((await admin.hget(keys.auditPeople, personId(p))) ?? '').split(',').map(Number);
    const own = [...personOfSeq].filter(([, id]) => id === personId(p)).map(([seq]) => seq);
    expect(indexed).toEqual(own);
  }
  for (const s of started) {
    if (s.op.kind === 'effect') expect(landedEffects.get(`${s.op.person}|${s.effect}`), s.id).toBe(1);
  }
  // Idle: the turn is not held by any appender (a lease whose SET lost its answer may live out its 250 ms).
  const turn = await admin.get(keys.auditTurn);
  if (turn !== null && turn !== OTHER) {
    expect(faulty, `turn left held by ${turn}`).toBe(true);
  }
}

describe('audit chain model', () => {
  it('appenders racing with saves, effects, first writes and faults keep one chain, each write once', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async ({ appenders, waves }) => run(appenders, waves)),
      { numRuns: RUNS },
    );
  }, 120_000);
});
