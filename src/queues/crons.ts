/**
 * The cron triggers as BullMQ job schedulers on the `ops` queue. At start-up
 * the `scheduler` role upserts one scheduler per enabled cron (id = task name,
 * explicit `tz`) and removes every scheduler the config no longer enables, so
 * the queue's schedules always match the config. Upserting is idempotent:
 * several scheduler processes may start at once.
 */
import type { Queue } from 'bullmq';
import type { CronName, CronsConfig } from '../config/crons.ts';

/** Config key → task (and scheduler id, and job name). */
export const CRON_TASKS: Record<CronName, string> = {
  reconcile: 'reconcile',
  rosterSync: 'roster-sync',
  overdue: 'overdue',
  holdExpiry: 'hold-expiry',
};

const TEMPLATE_OPTS = {
  // A run that fails is not retried: the next tick is the retry.
  attempts: 1,
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 500 },
};

export async function syncJobSchedulers(
  queue: Queue,
  crons: CronsConfig,
): Promise<{ upserted: string[]; removed: string[] }> {
  const upserted: string[] = [];
  for (const [key, task] of Object.entries(CRON_TASKS) as [CronName, string][]) {
    const cron = crons[key];
    if (!cron.enabled) continue;
    await queue.upsertJobScheduler(
      task,
      { pattern: cron.pattern, tz: cron.tz },
      { name: task, data: {}, opts: TEMPLATE_OPTS },
    );
    upserted.push(task);
  }
  const removed: string[] = [];
  for (const s of await queue.getJobSchedulers(0, -1)) {
    const id = s.id ?? s.key;
    if (!upserted.includes(id)) {
      await queue.removeJobScheduler(id);
      removed.push(id);
    }
  }
  return { upserted, removed };
}
