/**
 * Case 3, termination to revoked: `contract.terminated` events (effective now)
 * added to `hr-events` one at a time at a steady rate, timed from the add to the
 * person disabled in the built-in directory (`disabledAt`). A second run adds
 * them all at once (a burst) and is reported beside it; the goal is judged on
 * the paced run, the burst shows what a backlog costs.
 * Baseline: plain BullMQ no-op jobs, add → processed, same pacing and concurrency.
 */
import { addToProcessed, pace } from '../lib/baseline.ts';
import {
  benchEvent,
  benchPrefix,
  benchSettings,
  driverRedis,
  hrEventsQueue,
  startLastday,
  waitForDisabled,
} from '../lib/lastday.ts';
import { HR_EVENT_JOB_OPTIONS } from '../../src/queues/intake.ts';
import { hrEventJobId } from '../../src/queues/names.ts';
import { summarize } from '../lib/stats.ts';
import type { BenchCase, CaseEnv, CaseResult } from '../lib/types.ts';

const GOAL_MS = 500;

export const terminationCase: BenchCase = {
  name: 'termination',
  number: 3,
  title: 'Termination to revoked',
  goal: `enqueue → disabled p99 ≤ ${GOAL_MS} ms`,
  async run(env: CaseEnv): Promise<CaseResult> {
    const n = env.quick ? 200 : 1_000;
    const perSecond = 100;
    const prefix = benchPrefix('term');
    const settings = benchSettings(prefix);
    const concurrency = settings.config.workers.eventConcurrency;

    env.progress(`termination: plain BullMQ baseline, ${n} jobs at ${perSecond}/s and as a burst`);
    const basePaced = summarize(
      await addToProcessed(env.redisUrl, `${prefix}-b1`, n, perSecond, concurrency),
    );
    const baseBurst = summarize(await addToProcessed(env.redisUrl, `${prefix}-b2`, n, 0, concurrency));

    const rt = await startLastday(env.redisUrl, settings);
    const driver = driverRedis(env.redisUrl);
    const queue = hrEventsQueue(driver, prefix);
    try {
      const measure = async (tag: string, rate: number) => {
        const ids = Array.from({ length: n }, (_, i) => `term-${tag}-${i}`);
        const at = new Date().toISOString();
        await Promise.all(
          ids.map((id) =>
            rt.ctx.directory.put(
              id,
              { active: true, grants: [{ id: 'g', system: 's', role: 'admin', privileged: true }] },
              at,
            ),
          ),
        );
        const addedAt: number[] = [];
        env.progress(`termination: lastday, ${n} contract.terminated (${rate ? `${rate}/s` : 'burst'})`);
        await pace(n, rate, async (i) => {
          const event = benchEvent(ids[i]!, { type: 'contract.terminated' });
          addedAt[i] = Date.now();
          await queue.add('contract.terminated', event, {
            ...HR_EVENT_JOB_OPTIONS,
            jobId: hrEventJobId(String(event.eventId)),
          });
        });
        const disabled = await waitForDisabled(
          driver,
          (id) => rt.ctx.shardOf(id).keys.directoryUser(id),
          ids,
          600_000,
        );
        return summarize(ids.map((_, i) => disabled[i]! - addedAt[i]!));
      };
      const paced = await measure('p', perSecond);
      const burst = await measure('b', 0);
      const ratio = paced.p99 / Math.max(basePaced.p99, 1);
      return {
        figures: [
          { label: `p50, ${perSecond}/s`, unit: 'ms', lastday: paced.p50, baseline: basePaced.p50 },
          { label: `p99, ${perSecond}/s`, unit: 'ms', lastday: paced.p99, baseline: basePaced.p99 },
          { label: `p50, burst of ${n}`, unit: 'ms', lastday: burst.p50, baseline: baseBurst.p50 },
          { label: `p99, burst of ${n}`, unit: 'ms', lastday: burst.p99, baseline: baseBurst.p99 },
        ],
        ratio,
        holds: paced.p99 <= GOAL_MS,
        verdict: `paced p99 ${Math.round(paced.p99)} ms ${paced.p99 <= GOAL_MS ? '≤' : '>'} ${GOAL_MS} ms (burst p99 ${Math.round(burst.p99)} ms)`,
        params: { events: n, perSecond, eventConcurrency: concurrency },
      };
    } finally {
      await rt.stop();
      await queue.close();
      driver.disconnect();
    }
  },
};
