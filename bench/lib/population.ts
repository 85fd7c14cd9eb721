/**
 * The "people scheduled for later" population shared by the on-time and memory
 * cases. Ingesting 100,000 people is the slowest step of a full run, so it is
 * done once per run: the first case that needs it builds it (under its own
 * prefix, through the real hr-events queue) and records the memory it took;
 * the next case reuses it with its own runtime on the same prefix.
 */
import { DateTime } from 'luxon';
import {
  benchEvent,
  benchPrefix,
  driverRedis,
  enqueueEvents,
  hrEventsQueue,
  unfinished,
  waitUntil,
} from './lastday.ts';
import { usedMemory } from './redis.ts';
import type { CaseEnv } from './types.ts';
import { peopleCount, startLastday, benchSettings } from './lastday.ts';

export interface Population {
  prefix: string;
  count: number;
  /** People ingested per second while building it. */
  ingestPerSecond: number;
  usedMemoryBefore: number;
  usedMemoryAfter: number;
  /** First person's id is `${idPrefix}0`. */
  idPrefix: string;
}

const built = new Map<string, Population>();

/** The population of `count` people with a last day 45 days ahead, built once per Redis. */
export async function laterPopulation(env: CaseEnv, count: number): Promise<Population> {
  const key = `${env.redisUrl}|${count}`;
  const existing = built.get(key);
  if (existing) {
    env.progress(`reusing ${count} people scheduled for later (${existing.prefix})`);
    return existing;
  }
  const prefix = benchPrefix('later');
  const idPrefix = 'later-';
  const driver = driverRedis(env.redisUrl);
  const rt = await startLastday(env.redisUrl, benchSettings(prefix));
  const queue = hrEventsQueue(driver, prefix);
  try {
    env.progress(`scheduling ${count} people for later (shared by on-time and memory)`);
    await settle();
    const before = await usedMemory(driver);
    const lastDay = DateTime.utc().plus({ days: 45 }).toISODate()!;
    const started = performance.now();
    for (let i = 0; i < count; i += 10_000) {
      await enqueueEvents(
        queue,
        Array.from({ length: Math.min(10_000, count - i) }, (_, k) =>
          benchEvent(`${idPrefix}${i + k}`, { lastDay }),
        ),
      );
    }
    // An HR event's job completes once the person is saved and scheduled; how
    // many milestone jobs that is (none for people beyond a scheduling
    // horizon) is the engine's business, so only people are counted here.
    await waitUntil(
      'later people scheduled',
      async () => (await unfinished(queue)) === 0 && (await peopleCount(rt.ctx)) >= count,
      1_800_000,
      200,
    );
    const ingestPerSecond = count / ((performance.now() - started) / 1000);
    await settle();
    const population: Population = {
      prefix,
      count,
      ingestPerSecond,
      usedMemoryBefore: before,
      usedMemoryAfter: await usedMemory(driver),
      idPrefix,
    };
    built.set(key, population);
    env.progress(`${count} people scheduled at ${Math.round(ingestPerSecond)}/s`);
    return population;
  } finally {
    await rt.stop();
    await queue.close();
    driver.disconnect();
  }
}

/** Lets lazy frees and client buffers settle before reading used_memory. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 500));
}
