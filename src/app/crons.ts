/**
 * The crons of a scheduler-role process: the job schedulers upserted from the
 * config (src/queues/crons.ts) and the watchdog that brings lost ones back
 * and alerts on late ones (./cronWatchdog.ts). The `ops` worker that runs the
 * tasks is in the worker table (./workers.ts).
 */
import { horizonPass } from '../../jobs/ops/reconcile.ts';
import { policyFingerprint } from '../domain/replan.ts';
import { CRON_TASKS, syncJobSchedulers } from '../queues/crons.ts';
import type { Context } from './context.ts';
import { CronWatchdog, type CronWatchdogOptions } from './cronWatchdog.ts';

export async function startCrons(
  ctx: Context,
  watchdogOptions: CronWatchdogOptions = {},
): Promise<{ stop(): Promise<void> }> {
  const sync = await syncJobSchedulers(ctx.queues.ops, ctx.settings.config.crons, ctx.redis);
  ctx.log.info({ upserted: sync.upserted, removed: sync.removed }, 'cron job schedulers in place');
  if (sync.failed.length > 0)
    ctx.log.error({ failed: sync.failed }, 'cron job schedulers not in place; the watchdog retries');
  await reconcileIfPolicyChanged(ctx).catch((err: Error) =>
    ctx.log.error({ err: err.message }, 'policy check at start failed; the reconcile cron replans'),
  );
  // Milestones that came within the horizon while no scheduler ran get their
  // jobs now, not at the next reconcile tick (jobs/ops/reconcile.ts).
  // Each partition keeps its own next-due index (its people's keys).
  await Promise.all(ctx.partitions.all().map((p) => horizonPass(ctx.shard(p))))
    .then((counts) => counts.reduce((a, b) => a + b, 0))
    .then((added) => added > 0 && ctx.log.info({ added }, 'horizon pass at start: milestone jobs added'))
    .catch((err: Error) =>
      ctx.log.error({ err: err.message }, 'horizon pass at start failed; the reconcile cron repeats it'),
    );
  const watchdog = new CronWatchdog(ctx, ctx.queues.ops, watchdogOptions);
  watchdog.start();
  return { stop: () => watchdog.stop() };
}

/**
 * Makes this process's policy the one in force (the last scheduler started
 * wins, so an old process left running in a rolling deploy stops replanning),
 * and, when it differs from the one the last complete reconcile pass replanned
 * everyone under (a holiday added, a count changed, a scope edited), queues a
 * reconcile pass now rather than at the next cron tick. The job id names the
 * change, so scheduler processes starting together add it once.
 */
async function reconcileIfPolicyChanged(ctx: Context): Promise<void> {
  const current = policyFingerprint(ctx.policy);
  await ctx.opsRuns.setPolicyInForce(current);
  const reconciled = await ctx.opsRuns.policyReconciled();
  if (reconciled === current) return;
  if (reconciled === null && (await ctx.people.count()) === 0) {
    // A new install: nobody was planned under anything else.
    await ctx.opsRuns.setPolicyReconciled(current);
    return;
  }
  await ctx.queues.ops.add(
    CRON_TASKS.reconcile,
    {},
    {
      jobId: `reconcile-policy-${reconciled ?? 'none'}-${current}`,
      attempts: 1,
      removeOnComplete: { count: 200 },
      removeOnFail: { count: 500 },
    },
  );
  ctx.log.info({ from: reconciled, to: current }, 'policy changed since the last reconcile; reconciling now');
}
