/**
 * Case 5, freeze: one person with N pending destructive actions (10,000); time
 * for the freeze hook (GuardService.freeze, what the `freeze` milestone runs)
 * to hold every one of them. That includes setting the freeze mark, the
 * atomic convert-and-audit batches (FREEZE_BATCH at a time) and adding one
 * hold-expiry job per held action.
 * Baseline: a plain BullMQ operation of the same size in the same run, adding
 * N delayed jobs with addBulk (in FREEZE_BATCH chunks), as the expiry jobs are added.
 */
import { Queue } from 'bullmq';
import { FREEZE_BATCH } from '../../src/guard/freeze.ts';
import {
  benchEvent,
  benchPrefix,
  benchSettings,
  driverRedis,
  startLastday,
  waitUntil,
} from '../lib/lastday.ts';
import type { BenchCase, CaseEnv, CaseResult } from '../lib/types.ts';

const GOAL_MS = 1_000;

export const freezeCase: BenchCase = {
  name: 'freeze',
  number: 5,
  title: 'Freeze',
  goal: `hold 10,000 actions ≤ ${GOAL_MS / 1000} s`,
  async run(env: CaseEnv): Promise<CaseResult> {
    const n = env.quick ? 2_000 : 10_000;
    const prefix = benchPrefix('freeze');
    const rt = await startLastday(env.redisUrl, benchSettings(prefix));
    const driver = driverRedis(env.redisUrl);
    try {
      const guard = rt.ctx.guard;
      const actor = { name: 'bench' };
      const leaver = 'freeze-leaver';
      await rt.ctx.queues.hrEvents.add('contract.ending', benchEvent(leaver, { lastDay: '2030-06-28' }), {
        jobId: 'bench-freeze-plan',
      });
      await waitUntil(
        'leaver planned',
        async () => (await rt.ctx.shardOf(leaver).people.get(leaver)) !== undefined,
        30_000,
      );
      const record = (await rt.ctx.shardOf(leaver).people.get(leaver))!;

      env.progress(`freeze: registering ${n} pending actions`);
      const tReg = performance.now();
      for (let i = 0; i < n; i += 200) {
        await Promise.all(
          Array.from({ length: Math.min(200, n - i) }, (_, j) =>
            guard.register(
              {
                actionId: `f-${i + j}`,
                initiatorId: leaver,
                kind: 'account.deactivate',
                target: `account:f${i + j}`,
              },
              actor,
            ),
          ),
        );
      }
      const registerMs = performance.now() - tReg;
      const pendingBefore = await guard.actions.countInState('pending');
      if (pendingBefore < n) throw new Error(`only ${pendingBefore} of ${n} actions pending`);

      env.progress(`freeze: holding ${n} actions`);
      const t = performance.now();
      const counts = await guard.freeze(record);
      const freezeMs = performance.now() - t;
      const held = await guard.actions.countInState('held');
      if (counts.actions.held !== n || held < n)
        throw new Error(`freeze held ${counts.actions.held} (index ${held}) of ${n}`);

      env.progress(`freeze: plain BullMQ baseline, addBulk of ${n} delayed jobs`);
      const queue = new Queue('noop', { connection: driver, prefix: `${prefix}-base` });
      const tBase = performance.now();
      const delay = 72 * 3600_000;
      for (let i = 0; i < n; i += FREEZE_BATCH) {
        await queue.addBulk(
          Array.from({ length: Math.min(FREEZE_BATCH, n - i) }, (_, k) => ({
            name: 'expire',
            data: { actionId: `f-${i + k}` },
            opts: { delay, jobId: `expire.${i + k}` },
          })),
        );
      }
      const baseMs = performance.now() - tBase;
      await queue.obliterate({ force: true });
      await queue.close();

      const holds = freezeMs <= GOAL_MS;
      return {
        figures: [
          {
            label: 'actions held per second',
            unit: '/s',
            lastday: n / (freezeMs / 1000),
            baseline: n / (baseMs / 1000),
          },
          { label: `hold ${n} pending actions`, unit: 'ms', lastday: freezeMs, baseline: baseMs },
        ],
        ratio: freezeMs / baseMs,
        holds,
        verdict: `${Math.round(freezeMs)} ms ${holds ? '≤' : '>'} ${GOAL_MS} ms`,
        params: {
          actions: n,
          batch: FREEZE_BATCH,
          registerMs: Math.round(registerMs),
          held: counts.actions.held,
          baseline: `addBulk of ${n} delayed jobs in chunks of ${FREEZE_BATCH}`,
        },
        notes: [
          `freeze: baseline = plain BullMQ addBulk of ${n} delayed jobs (chunks of ${FREEZE_BATCH}); the freeze adds one hold-expiry job per batch of held actions. Registering the ${n} actions took ${Math.round(registerMs)} ms.`,
        ],
      };
    } finally {
      driver.disconnect();
      await rt.stop();
    }
  },
};
