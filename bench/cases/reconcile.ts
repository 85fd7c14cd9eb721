/**
 * Case 7, reconcile: one full pass of `reconcile` (jobs/ops/reconcile.ts, what the
 * cron and `lastday run reconcile` run) over the shared population of people
 * scheduled for later (bench/lib/population.ts; 100,000, built once per run and
 * shared with on-time and memory, plus whatever those cases added under the
 * same prefix). Two passes: (a) every job present, nothing to repair (the
 * figure the goal is judged on), (b) 1 % of the people lost all their
 * milestone jobs, which the pass schedules again.
 * Baseline: plain BullMQ reading the same number of delayed jobs (one per
 * person) with Queue.getDelayed in pages of 500, on the same queue.
 */
import { Queue } from 'bullmq';
import { createContext } from '../../src/app/context.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { MILESTONES } from '../../src/domain/milestone.ts';
import { milestoneJobId, QUEUES } from '../../src/queues/names.ts';
import { reconcile } from '../../jobs/ops/reconcile.ts';
import { benchSettings, driverRedis } from '../lib/lastday.ts';
import { laterPopulation } from '../lib/population.ts';
import type { BenchCase, CaseEnv, CaseResult } from '../lib/types.ts';

const GOAL_MS = 30_000;
const PAGE = 500;

export const reconcileCase: BenchCase = {
  name: 'reconcile',
  number: 7,
  title: 'Reconcile',
  goal: `full reconcile of 100,000 people ≤ ${GOAL_MS / 1000} s`,
  async run(env: CaseEnv): Promise<CaseResult> {
    const n = env.quick ? 10_000 : 100_000;
    const population = await laterPopulation(env, n);
    const settings = benchSettings(population.prefix);
    // Everyone within the horizon: each person has the one job their plan wants
    // (with the default 48 h the population, 60+ days out, has none to lose).
    settings.config.workers.horizonHours = 24 * 366;
    const ctx = await createContext({
      settings,
      redisUrl: env.redisUrl,
      log: createLogger(settings.env.LOG_LEVEL),
    });
    const driver = driverRedis(env.redisUrl);
    try {
      const people = await ctx.people.count();
      env.progress(`reconcile: horizon pass adding each person's job (not timed)`);
      await reconcile(ctx);
      env.progress(`reconcile: pass over ${people} people, nothing to repair`);
      const clean = await reconcile(ctx);
      if (clean.rescheduled + clean.requeued + clean.errors > 0)
        env.progress(`reconcile: the clean pass repaired something: ${JSON.stringify(clean)}`);

      const lost = Math.floor(n / 100);
      const pipe = driver.pipeline();
      for (let i = 0; i < lost; i++) {
        const id = `${population.idPrefix}${i * 100}`;
        for (const m of MILESTONES) {
          const jobId = milestoneJobId(id, 1, m);
          pipe.zrem(ctx.queues.milestones.keys.delayed!, jobId);
          pipe.del(ctx.queues.milestones.toKey(jobId));
        }
      }
      await pipe.exec();
      env.progress(`reconcile: pass with ${lost} people's jobs lost`);
      const repair = await reconcile(ctx);
      // One job per person now (the first open milestone's): at least one each.
      if (repair.rescheduled < lost)
        throw new Error(
          `reconcile rescheduled ${repair.rescheduled} jobs for ${lost} people who lost theirs`,
        );

      env.progress(`reconcile: plain BullMQ baseline, getDelayed over ${n} jobs`);
      const queue = new Queue(QUEUES.milestones, { connection: driver, prefix: population.prefix });
      const tBase = performance.now();
      let read = 0;
      for (let start = 0; start < n; start += PAGE) {
        const jobs = await queue.getDelayed(start, Math.min(n, start + PAGE) - 1);
        read += jobs.length;
        if (jobs.length === 0) break;
      }
      const baseMs = performance.now() - tBase;
      await queue.close();
      const tZ = performance.now();
      const zcount = (await driver.zrange(ctx.queues.milestones.keys.delayed!, 0, n * MILESTONES.length - 1))
        .length;
      const zrangeMs = performance.now() - tZ;

      const holds = clean.durationMs <= GOAL_MS;
      return {
        figures: [
          {
            label: `pass, ${lost} people's jobs lost`,
            unit: 'ms',
            lastday: repair.durationMs,
          },
          {
            label: 'people per second',
            unit: '/s',
            lastday: clean.scanned / (clean.durationMs / 1000),
            baseline: read / (baseMs / 1000),
          },
          { label: `pass over ${people} people`, unit: 'ms', lastday: clean.durationMs, baseline: baseMs },
        ],
        ratio: clean.durationMs / baseMs,
        holds,
        verdict: `${(clean.durationMs / 1000).toFixed(1)} s ${holds ? '≤' : '>'} ${GOAL_MS / 1000} s`,
        params: {
          people,
          population: n,
          clean,
          repair,
          baselineJobsRead: read,
          zrange: { entries: zcount, ms: Math.round(zrangeMs) },
        },
        notes: [
          `reconcile: baseline = plain BullMQ Queue.getDelayed over ${read} delayed jobs in pages of ${PAGE} (one job per person); ` +
            `a bare ZRANGE of the ${zcount} delayed entries took ${Math.round(zrangeMs)} ms. The pass scanned ${clean.scanned} people (${clean.open} with open milestones); ` +
            `the repair pass scheduled ${repair.rescheduled} lost jobs again.`,
        ],
      };
    } finally {
      driver.disconnect();
      await ctx.close();
    }
  },
};
