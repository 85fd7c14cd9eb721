/**
 * Case 1, ingest: N `contract.ending` events added to `hr-events` in bulk, timed
 * from the first add until every event is applied and planned: the person saved
 * and its event job finished (last days 60 days ahead, beyond the 48 h horizon:
 * no milestone job yet, the horizon pass adds it later).
 * Baseline: N no-op jobs through plain BullMQ at the same concurrency.
 */
import { DateTime } from 'luxon';
import { noopThroughput } from '../lib/baseline.ts';
import {
  applyEvents,
  benchEvent,
  benchPrefix,
  benchSettings,
  driverRedis,
  hrEventsQueue,
  allMilestones,
  startLastday,
} from '../lib/lastday.ts';
import type { BenchCase, CaseEnv, CaseResult } from '../lib/types.ts';

export const ingestCase: BenchCase = {
  name: 'ingest',
  number: 1,
  title: 'Ingest',
  goal: 'events/s ≥ 0.5 × plain BullMQ no-op jobs/s',
  async run(env: CaseEnv): Promise<CaseResult> {
    const n = env.quick ? 2_000 : 20_000;
    const prefix = benchPrefix('ingest');
    const settings = benchSettings(prefix);
    const concurrency = settings.config.workers.eventConcurrency;

    env.progress(`ingest: plain BullMQ baseline, ${n} no-op jobs`);
    const base = await noopThroughput(env.redisUrl, `${prefix}-base`, n, concurrency);

    env.progress(`ingest: lastday, ${n} contract.ending events`);
    const rt = await startLastday(env.redisUrl, settings);
    const driver = driverRedis(env.redisUrl);
    const queue = hrEventsQueue(driver, prefix);
    try {
      const lastDay = DateTime.utc().plus({ days: 60 }).toISODate()!;
      const events = Array.from({ length: n }, (_, i) => benchEvent(`ing-${i}`, { lastDay }));
      const started = performance.now();
      await applyEvents(rt, queue, events);
      const seconds = (performance.now() - started) / 1000;
      const milestoneJobs = await allMilestones(rt.ctx).getDelayedCount();
      const failed = await queue.getFailedCount();
      const perSecond = n / seconds;
      const ratio = perSecond / base.perSecond;
      return {
        figures: [
          { label: 'throughput', unit: 'events/s', lastday: perSecond, baseline: base.perSecond },
          { label: 'wall time', unit: 's', lastday: seconds, baseline: base.seconds },
        ],
        ratio,
        holds: ratio >= 0.5 && failed === 0,
        verdict: `ratio ${ratio.toFixed(2)} ${ratio >= 0.5 ? '≥' : '<'} 0.5${failed ? `; ${failed} failed` : ''}`,
        params: { events: n, eventConcurrency: concurrency, milestoneJobs, failed },
      };
    } finally {
      await rt.stop();
      await queue.close();
      driver.disconnect();
    }
  },
};
