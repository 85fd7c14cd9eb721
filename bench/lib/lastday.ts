/**
 * Starting lastday for a bench case: the real runtime (workers only, the same
 * wiring `npm start` uses, guard and crons included) on the bench Redis
 * under a fresh prefix, plus helpers to feed it and to wait for it.
 */
import { randomUUID } from 'node:crypto';
import { type JobType, Queue } from 'bullmq';
import type { DateTime } from 'luxon';
import type { Context } from '../../src/app/context.ts';
import { applyHrEvent, type PersonRecord } from '../../src/domain/person.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { type Runtime, startRuntime } from '../../src/app/runtime.ts';
import { envSchema } from '../../src/config/env.ts';
import { parseConfig, type Settings } from '../../src/config/load.ts';
import { createRedis, type RedisClient } from '../../src/queues/connection.ts';
import { HR_EVENT_JOB_OPTIONS } from '../../src/queues/intake.ts';
import { scheduleMilestones } from '../../src/queues/milestones.ts';
import { hrEventJobId, QUEUES } from '../../src/queues/names.ts';
import { encodePerson } from '../../src/store/personCodec.ts';

/**
 * A fresh prefix, hash-tagged so the same case runs on one Redis and on a
 * cluster (`--cluster`): every key of the case, its baseline's included
 * (`${prefix}-base`), is then in one slot.
 */
export function benchPrefix(name: string): string {
  return `{bench-${name}-${randomUUID().slice(0, 6)}}`;
}

export function benchSettings(prefix: string, config: Record<string, unknown> = {}): Settings {
  return {
    env: envSchema.parse({ LASTDAY_PREFIX: prefix, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent' }),
    config: parseConfig(config),
  };
}

export async function startLastday(redisUrl: string, settings: Settings): Promise<Runtime> {
  return startRuntime({
    settings,
    redisUrl,
    log: createLogger(settings.env.LOG_LEVEL),
    roles: ['worker'],
  });
}

/** A plain connection for the bench driver itself (a Cluster for a cluster URL). */
export function driverRedis(url: string): RedisClient {
  return createRedis(url, 'worker', 'bench-driver');
}

/**
 * Adds HR events to `hr-events` the way an HR system would (contract way in 1:
 * name = type, data = event), in bulk chunks, with intake's job options.
 */
export async function enqueueEvents(queue: Queue, events: readonly Record<string, unknown>[], chunk = 1000) {
  for (let i = 0; i < events.length; i += chunk) {
    await queue.addBulk(
      events.slice(i, i + chunk).map((e) => ({
        name: String(e.type),
        data: e,
        opts: { ...HR_EVENT_JOB_OPTIONS, jobId: hrEventJobId(String(e.eventId)) },
      })),
    );
  }
}

export function hrEventsQueue(redis: RedisClient, prefix: string): Queue {
  return new Queue(QUEUES.hrEvents, { connection: redis, prefix });
}

/**
 * The milestones queues of every partition as one (docs/cluster.md
 * "Partitions"): counts summed. One partition: its one queue.
 */
/** People known to lastday, summed over every partition. */
export async function peopleCount(ctx: Context): Promise<number> {
  const counts = await Promise.all(ctx.partitions.all().map((p) => ctx.shard(p).people.count()));
  return counts.reduce((a, b) => a + b, 0);
}

export function allMilestones(ctx: Context) {
  const queues = [...new Set(ctx.partitions.all().map((p) => ctx.shard(p).queues.milestones))];
  return {
    async getDelayedCount(): Promise<number> {
      return (await Promise.all(queues.map((q) => q.getDelayedCount()))).reduce((a, b) => a + b, 0);
    },
    async getJobCounts(...types: string[]): Promise<Record<string, number>> {
      const out: Record<string, number> = {};
      for (const c of await Promise.all(queues.map((q) => q.getJobCounts(...(types as JobType[]))))) {
        for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
      }
      return out;
    },
  };
}

/** Jobs not yet finished (waiting, active, delayed, prioritized). */
export async function unfinished(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

/** Adds `events` to `hr-events` and waits until every one is applied (the queue idle, everyone saved). */
export async function applyEvents(
  rt: Runtime,
  queue: Queue,
  events: readonly Record<string, unknown>[],
  everyMs = 20,
): Promise<void> {
  await enqueueEvents(queue, events);
  await waitUntil(
    'all events applied and planned',
    async () => (await unfinished(queue)) === 0 && (await peopleCount(rt.ctx)) >= events.length,
    600_000,
    everyMs,
  );
}

/** Polls `check` every `everyMs` until true; throws past `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A `contract.ending` / `contract.terminated` event for bench person `id`. */
export function benchEvent(
  id: string,
  fields: { type?: string; lastDay?: string; endTime?: string; timezone?: string; effectiveAt?: string },
): Record<string, unknown> {
  const type = fields.type ?? 'contract.ending';
  return {
    eventId: `bench-${id}-${randomUUID().slice(0, 8)}`,
    type,
    occurredAt: new Date().toISOString(),
    person: {
      id,
      email: `${id}@example.com`,
      employment: 'contractor',
      timezone: fields.timezone ?? 'UTC',
    },
    ...(fields.lastDay ? { lastDay: fields.lastDay } : {}),
    ...(fields.endTime ? { endTime: fields.endTime } : {}),
    ...(fields.effectiveAt ? { effectiveAt: fields.effectiveAt } : {}),
  };
}

/**
 * When each person's revoke landed in a connector that revokes in one write
 * (the built-in directory, `Connector.revokeRecorded`): the instant its reply
 * reached lastday, which is at or after the write itself. The stored
 * `disabledAt` is the step's own clock, taken before the step reads the user
 * and waits its turn on the audit chain, so it can be earlier than the write.
 * Only writes that did the revoke count (not `finished` reruns).
 */
export function watchRevokeWrites(ctx: Context): Map<string, number> {
  const landed = new Map<string, number>();
  for (const c of ctx.connectors) {
    const own = c.revokeRecorded?.bind(c);
    if (!own) continue;
    (c as { revokeRecorded: typeof own }).revokeRecorded = async (person, records, read) => {
      const result = await own(person, records, read);
      if (result.status !== 'finished' && !landed.has(person.id)) landed.set(person.id, Date.now());
      return result;
    };
  }
  return landed;
}

/**
 * Waits until every person in `ids` has `disabledAt` on their built-in directory
 * user hash; returns those instants as epoch ms, in `ids` order.
 */
export async function waitForDisabled(
  redis: RedisClient,
  userKey: (personId: string) => string,
  ids: readonly string[],
  timeoutMs: number,
): Promise<number[]> {
  const out = new Array<number>(ids.length).fill(Number.NaN);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing = ids.flatMap((_, i) => (Number.isNaN(out[i]) ? [i] : []));
    if (missing.length === 0) return out;
    if (Date.now() > deadline)
      throw new Error(`${missing.length} people not disabled within ${timeoutMs} ms`);
    // One HGET each, not a pipeline: on a cluster the keys are on several masters.
    const values = await Promise.all(missing.map((i) => redis.hget(userKey(ids[i]!), 'disabledAt')));
    values.forEach((v, k) => {
      if (typeof v === 'string') out[missing[k]!] = Date.parse(v);
    });
    await sleep(100);
  }
}

export { putLeavers } from '../../test/helpers/leavers.ts';

/**
 * `n` people (`person-<j>`) planned under `ctx`'s policy and written straight
 * into the store's keys with their milestone jobs, 2,000 at a time: for
 * benches of what runs over a planned population (reconcile), not of intake.
 * Last days spread 10 to 359 days after `now`; contractors and employees alternate.
 */
export async function seedPlanned(ctx: Context, n: number, now: DateTime): Promise<void> {
  const CHUNK = 2_000;
  for (let i = 0; i < n; i += CHUNK) {
    const records: PersonRecord[] = [];
    for (let j = i; j < Math.min(n, i + CHUNK); j++) {
      const result = applyHrEvent(
        undefined,
        {
          eventId: `bench-${j}`,
          type: 'contract.ending',
          occurredAt: now.toISO()!,
          person: {
            id: `person-${j}`,
            employment: j % 2 ? 'contractor' : 'employee',
            timezone: 'Europe/Berlin',
          },
          lastDay: now.plus({ days: 10 + (j % 350) }).toISODate()!,
        },
        ctx.policy,
        now,
      );
      if (result.outcome === 'applied') records.push({ ...result.record, rev: 1 });
    }
    const p = ctx.redis.pipeline();
    for (const r of records) {
      p.set(ctx.keys.person(r.person.id), encodePerson(r));
      p.zadd(ctx.keys.peopleByEnd, Date.parse(r.endsAt!), r.person.id);
    }
    await p.exec();
    await Promise.all(
      records.map((r) => scheduleMilestones(ctx.queues.milestones, r, Date.now(), Number.POSITIVE_INFINITY)),
    );
  }
}
