/**
 * Case 6, memory: Redis bytes per scheduled person. `used_memory` (INFO memory)
 * before and after N people are ingested and scheduled (last day 45 days
 * ahead), divided by N: 100,000 people in a full run, 10,000 with `--quick`. A per-key-family breakdown from MEMORY USAGE on a
 * sample shows where the bytes go.
 * Baseline: the same number of plain BullMQ delayed jobs (5 per person), bytes
 * per 5 jobs, i.e. what the schedule alone costs in BullMQ.
 */
import { Queue } from 'bullmq';
import { MILESTONES } from '../../src/domain/milestone.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import { createKeys, type Keys } from '../../src/store/keys.ts';
import { laterPopulation } from '../lib/population.ts';
import { benchPrefix, driverRedis } from '../lib/lastday.ts';
import { usedMemory } from '../lib/redis.ts';
import type { BenchCase, CaseEnv, CaseResult } from '../lib/types.ts';

const GOAL_BYTES = 2048;

export const memoryCase: BenchCase = {
  name: 'memory',
  number: 6,
  title: 'Memory',
  goal: `Redis bytes per scheduled person ≤ ${GOAL_BYTES}`,
  async run(env: CaseEnv): Promise<CaseResult> {
    const n = env.quick ? 10_000 : 100_000;
    const prefix = benchPrefix('mem');
    const driver = driverRedis(env.redisUrl);

    env.progress(`memory: plain BullMQ baseline, ${n * 5} delayed jobs`);
    const baseQueue = new Queue('noop', { connection: driver, prefix: `${prefix}-base` });
    const baseBefore = await settle(driver);
    const far = 45 * 24 * 3600_000;
    for (let i = 0; i < n; i += 1000) {
      await baseQueue.addBulk(
        Array.from({ length: Math.min(1000, n - i) }, (_, k) =>
          MILESTONES.map((m) => ({
            name: m,
            data: { personId: `mem-${i + k}`, version: 1, milestone: m },
            opts: { delay: far, jobId: milestoneJobId(`mem-${i + k}`, 1, m) },
          })),
        ).flat(),
      );
    }
    const basePerPerson = ((await settle(driver)) - baseBefore) / n;
    await baseQueue.obliterate({ force: true });
    await baseQueue.close();

    const population = await laterPopulation(env, n);
    try {
      const before = population.usedMemoryBefore;
      const after = population.usedMemoryAfter;
      const perPerson = (after - before) / n;
      const breakdown = await sampleBreakdown(
        driver,
        population.prefix,
        createKeys(population.prefix),
        n,
        population.idPrefix,
      );
      const ratio = perPerson / basePerPerson;
      return {
        figures: [
          { label: 'bytes per person', unit: 'B', lastday: perPerson, baseline: basePerPerson },
          {
            label: 'total for N people',
            unit: 'MB',
            lastday: (after - before) / 1e6,
            baseline: (basePerPerson * n) / 1e6,
          },
        ],
        ratio,
        holds: perPerson <= GOAL_BYTES,
        verdict: `${Math.round(perPerson)} B ${perPerson <= GOAL_BYTES ? '≤' : '>'} ${GOAL_BYTES} B`,
        params: {
          people: n,
          ingestPerSecond: Math.round(population.ingestPerSecond),
          milestoneJobsPerPerson:
            Math.round(((await driver.zcard(`${population.prefix}:milestones:delayed`)) / n) * 100) / 100,
          usedMemoryBefore: before,
          usedMemoryAfter: after,
        },
        notes: [`bytes per person by key family (MEMORY USAGE, sampled): ${JSON.stringify(breakdown)}`],
      };
    } finally {
      driver.disconnect();
    }
  },
};

/** Completed hr-events jobs BullMQ keeps (removeOnComplete), sampled, per person. */
async function keptJobs(
  redis: ReturnType<typeof driverRedis>,
  prefix: string,
  usage: (key: string) => Promise<number>,
  n: number,
): Promise<number> {
  const kept = await redis.zcard(`${prefix}:hr-events:completed`);
  const ids = await redis.zrange(`${prefix}:hr-events:completed`, 0, 49);
  if (ids.length === 0) return 0;
  let total = 0;
  for (const id of ids) total += await usage(`${prefix}:hr-events:${id}`);
  return Math.round(((total / ids.length) * kept) / n);
}

/** used_memory after a short pause (lazy frees and client buffers settle). */
async function settle(redis: ReturnType<typeof driverRedis>): Promise<number> {
  await new Promise((r) => setTimeout(r, 500));
  return usedMemory(redis);
}

/**
 * Where the bytes go: per-person keys measured on a sample of people, shared
 * keys (indexes, streams, sorted sets) measured whole and divided by N.
 */
async function sampleBreakdown(
  redis: ReturnType<typeof driverRedis>,
  prefix: string,
  keys: Keys,
  n: number,
  idPrefix: string,
): Promise<Record<string, number>> {
  const sample = Array.from({ length: 200 }, (_, i) => `${idPrefix}${Math.floor((i * n) / 200)}`);
  const usage = async (key: string) =>
    Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const perPerson = async (keyOf: (id: string) => string[]) => {
    let total = 0;
    for (const id of sample) for (const k of keyOf(id)) total += await usage(k);
    return Math.round(total / sample.length);
  };
  const jobKey = (id: string, m: (typeof MILESTONES)[number]) =>
    `${prefix}:milestones:${milestoneJobId(id, 1, m)}`;
  // Event ids are random per person (`bench-<person>-<8 hex>`): find them in the
  // person's record, whatever its shape (a JSON string or a hash).
  const eventKeys = async () => {
    let total = 0;
    for (const id of sample) {
      const key = keys.person(id);
      const text =
        (await redis.type(key)) === 'hash'
          ? Object.values(await redis.hgetall(key)).join('\n')
          : ((await redis.get(key)) ?? '');
      const eventId = new RegExp(`bench-${id}-[0-9a-f]{8}`).exec(text)?.[0] ?? '';
      total += (await usage(keys.eventSeen(eventId))) + (await usage(keys.eventApplied(eventId)));
    }
    return Math.round(total / sample.length);
  };
  const shared = async (key: string) => Math.round((await usage(key)) / n);
  return {
    personRecord: await perPerson((id) => [keys.person(id)]),
    milestoneJobs: await perPerson((id) => MILESTONES.map((m) => jobKey(id, m))),
    eventIdempotency: await eventKeys(),
    auditPersonIndex: (await shared(keys.auditPeople)) + (await perPerson((id) => [keys.auditByPerson(id)])),
    auditStream: await shared(keys.auditLog),
    peopleByEnd: await shared(keys.peopleByEnd),
    peopleByNextDue: await shared(keys.peopleByNextDue),
    milestonesDelayedZset: await shared(`${prefix}:milestones:delayed`),
    hrEventJobsKept: await shared(`${prefix}:hr-events:completed`),
    hrEventsEventStream: await shared(`${prefix}:hr-events:events`),
    milestonesEventStream: await shared(`${prefix}:milestones:events`),
    hrEventJobHashesKept: await keptJobs(redis, prefix, usage, n),
  };
}
