/**
 * Case 2, on time: `soon` people whose `revoke` instants are spread over
 * `spreadS` seconds, while `later` more people are scheduled for weeks ahead.
 * Lateness is measured from each planned instant (`endsAt`) to the directory
 * write: the instant its reply reached lastday (watchRevokeWrites), at or
 * after the write itself. The stored `disabledAt` is the revoke step's own
 * clock, read before the step reads the user and waits its turn on the audit
 * chain; its lateness is printed beside, for comparison with older runs.
 * Baseline: plain BullMQ delayed no-op jobs due at the same instants, with as
 * many far-future jobs beside them, at the same concurrency.
 *
 * `endTime` has one-second resolution (contract section 2), so the instants come
 * in whole-second bursts of soon/spreadS people; the baseline gets the same bursts.
 */
import { DateTime } from 'luxon';
import { delayedLateness } from '../lib/baseline.ts';
import {
  benchEvent,
  benchSettings,
  driverRedis,
  enqueueEvents,
  hrEventsQueue,
  putLeavers,
  sleep,
  startLastday,
  allMilestones,
  unfinished,
  waitForDisabled,
  waitUntil,
  watchRevokeWrites,
} from '../lib/lastday.ts';
import { laterPopulation } from '../lib/population.ts';
import { cpuWindow } from '../lib/redis.ts';
import { summarize } from '../lib/stats.ts';
import type { BenchCase, CaseEnv, CaseResult } from '../lib/types.ts';

export const onTimeCase: BenchCase = {
  name: 'on-time',
  number: 2,
  title: 'On time',
  goal: 'lateness p99 ≤ 2 × plain BullMQ delayed-job p99',
  async run(env: CaseEnv): Promise<CaseResult> {
    const soon = env.quick ? 2_000 : 20_000;
    const later = env.quick ? 10_000 : 100_000;
    const spreadS = env.quick ? 5 : 20;
    const population = await laterPopulation(env, later);
    const prefix = population.prefix;
    const settings = benchSettings(prefix);
    const concurrency = settings.config.workers.milestoneConcurrency;
    const rt = await startLastday(env.redisUrl, settings);
    const driver = driverRedis(env.redisUrl);
    const queue = hrEventsQueue(driver, prefix);
    const milestones = allMilestones(rt.ctx);
    const landed = watchRevokeWrites(rt.ctx);
    try {
      const laterRate = population.ingestPerSecond;
      env.progress(`on-time: directory users and events for ${soon} people due over ${spreadS} s`);
      const ids = Array.from({ length: soon }, (_, i) => `soon-${i}`);
      await putLeavers(rt.ctx, ids);
      // Leave room to apply every event and run their past-due notice/reduce/freeze
      // (4–6× the cost of scheduling a later person, measured)
      // before the first instant, so the spread measures firing, not ingest.
      const leadS = Math.ceil((soon / laterRate) * 6) + 10;
      const startMs = Math.ceil((Date.now() + leadS * 1000) / 1000) * 1000;
      const dueAt = ids.map((_, i) => startMs + Math.floor((i * spreadS) / soon) * 1000);
      const events = ids.map((id, i) => {
        const end = DateTime.fromMillis(dueAt[i]!, { zone: 'utc' });
        return benchEvent(id, { lastDay: end.toISODate()!, endTime: end.toFormat('HH:mm:ss') });
      });
      // Counted from here: with no headroom (ingest still running at the first
      // instants) revokes are done before the CPU window starts.
      const revokesDone = async () =>
        (await rt.ctx.metrics.milestonesDone.get()).values.find((v) => v.labels.milestone === 'revoke')
          ?.value ?? 0;
      const doneBefore = await revokesDone();
      await enqueueEvents(queue, events);
      await waitUntil(
        'soon people applied, past-due milestones run',
        async () => {
          // Twice in a row: a person-lock retry parks a job in `delayed` for ~50 ms.
          for (let k = 0; k < 2; k++) {
            if ((await unfinished(queue)) > 0 || (await runnable(milestones)) > 0) return false;
            await sleep(200);
          }
          return true;
        },
        900_000,
        100,
      );
      const headroomMs = startMs - Date.now();
      env.progress(`on-time: ${Math.round(headroomMs / 1000)} s before the first instant; waiting`);
      // CPU from before the first instant until every revoke is done: per
      // revoke, beside the baseline's per job. Done is counted in-process (the
      // metric), so no polling of Redis runs in the window; `disabledAt` is
      // read from the directory afterwards.
      const cpu = await cpuWindow(driver);
      await sleep(Math.max(0, dueAt[dueAt.length - 1]! - Date.now()));
      await waitUntil('revokes done', async () => (await revokesDone()) - doneBefore >= soon, 900_000, 20);
      const spent = await cpu();
      // A directory user's keys are in their person's partition (docs/cluster.md).
      const disabledAt = await waitForDisabled(
        driver,
        (id) => rt.ctx.shardOf(id).keys.directoryUser(id),
        ids,
        60_000,
      );
      const lateness = ids.map((id, i) => (landed.get(id) ?? disabledAt[i]!) - dueAt[i]!);
      const lastday = summarize(lateness);
      const stamped = summarize(ids.map((_, i) => disabledAt[i]! - dueAt[i]!));

      env.progress(`on-time: plain BullMQ baseline, same ${soon} instants + ${later} later jobs`);
      const baseRun = await delayedLateness(
        env.redisUrl,
        `${prefix}-ontime-base`,
        dueAt.map((d) => d - startMs),
        later,
        concurrency,
      );
      const base = summarize(baseRun.lateness);
      const perJob = (ms: number) => Math.round((ms / soon) * 1000) / 1000;
      const ratio = lastday.p99 / Math.max(base.p99, 1);
      return {
        figures: [
          { label: 'lateness p50', unit: 'ms', lastday: lastday.p50, baseline: base.p50 },
          { label: 'lateness p99', unit: 'ms', lastday: lastday.p99, baseline: base.p99 },
          { label: 'lateness max', unit: 'ms', lastday: lastday.max, baseline: base.max },
          { label: 'p99 to the stored disabledAt', unit: 'ms', lastday: stamped.p99 },
          {
            label: 'node CPU per revoke / job',
            unit: 'ms',
            lastday: perJob(spent.nodeMs),
            baseline: perJob(baseRun.cpu.nodeMs),
          },
          {
            label: 'redis CPU per revoke / job',
            unit: 'ms',
            lastday: perJob(spent.redisMs),
            baseline: perJob(baseRun.cpu.redisMs),
          },
        ],
        ratio,
        holds: lastday.p99 <= 2 * Math.max(base.p99, 1),
        verdict: `p99 ${Math.round(lastday.p99)} ms ${lastday.p99 <= 2 * Math.max(base.p99, 1) ? '≤' : '>'} 2 × ${Math.round(base.p99)} ms`,
        params: {
          soon,
          later,
          spreadS,
          milestoneConcurrency: concurrency,
          laterIngestPerS: Math.round(laterRate),
          headroomBeforeFirstInstantMs: headroomMs,
          // The stored instant is taken before the write: none before its instant.
          earlyWrites: ids.filter((_, i) => disabledAt[i]! < dueAt[i]!).length,
          // Writes timed by their reply (the rest: by the stored disabledAt).
          writesTimedByReply: ids.filter((id) => landed.has(id)).length,
        },
        notes:
          headroomMs < 0
            ? ['events were still being applied when the first instants passed: lateness includes ingest']
            : [],
      };
    } finally {
      await rt.stop();
      await queue.close();
      driver.disconnect();
    }
  },
};

async function runnable(queue: { getJobCounts(...t: string[]): Promise<Record<string, number>> }) {
  const c = await queue.getJobCounts('waiting', 'active', 'prioritized');
  return Object.values(c).reduce((a, b) => a + b, 0);
}
