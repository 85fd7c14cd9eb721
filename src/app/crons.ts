/**
 * The crons of a scheduler-role process: the job schedulers upserted from the
 * config (src/queues/crons.ts) and the watchdog that brings lost ones back
 * and alerts on late ones (./cronWatchdog.ts). The `ops` worker that runs the
 * tasks is in the worker table (./workers.ts).
 */
import { syncJobSchedulers } from '../queues/crons.ts';
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
  const watchdog = new CronWatchdog(ctx, ctx.queues.ops, watchdogOptions);
  watchdog.start();
  return { stop: () => watchdog.stop() };
}
