/**
 * The cron triggers as BullMQ job schedulers on the `ops` queue: one scheduler
 * per enabled cron (id = task name, explicit `tz`), none for the others, so
 * the queue's schedules always match the config.
 *
 * A scheduler is a chain: each run's job is created when the previous one is
 * picked up. Lose the pending job (a Redis that lost data, a key deleted by
 * hand, a worker that died between picking a job up and adding the next) and
 * the chain ends for good — reconcile's own chain included, so nothing would
 * heal it. Hence `syncJobSchedulers` leaves healthy schedulers alone and
 * re-creates broken ones, and lastday runs it at every ops worker start, after
 * every reconcile pass, and from the watchdog (src/app/cronWatchdog.ts)
 * whenever `lostSchedules` finds a chain broken. Several scheduler processes
 * may do so at once: an upsert replaces the pending job in one script, so each
 * tick still makes one job.
 */
import { defaultRepeatStrategy, type Queue } from 'bullmq';
import type { RedisClient } from './connection.ts';
import type { CronName, CronsConfig } from '../config/crons.ts';

/** Config key → task (and scheduler id, and job name). */
export const CRON_TASKS: Record<CronName, string> = {
  reconcile: 'reconcile',
  rosterSync: 'roster-sync',
  overdue: 'overdue',
  holdExpiry: 'hold-expiry',
  retention: 'retention',
};

const TEMPLATE_OPTS = {
  // A run that fails is not retried: the next tick is the retry.
  attempts: 1,
  removeOnComplete: { count: 200 },
  removeOnFail: { count: 500 },
};

/** BullMQ's code for "the next run's job id is taken" (ErrorCode.SchedulerJobIdCollision). */
const SCHEDULER_JOB_ID_COLLISION = -10;

/** States in which a scheduler's pending job will still run (and so make the next one). */
const LIVE_STATES = new Set(['delayed', 'waiting', 'prioritized', 'active', 'waiting-children']);

export interface EnabledCron {
  name: CronName;
  task: string;
  pattern: string;
  tz: string;
}

export function enabledCrons(crons: CronsConfig): EnabledCron[] {
  return (Object.entries(CRON_TASKS) as [CronName, string][])
    .filter(([key]) => crons[key].enabled)
    .map(([key, task]) => ({ name: key, task, pattern: crons[key].pattern, tz: crons[key].tz }));
}

export interface SyncResult {
  /** Crons whose scheduler was (re-)created: new, changed in the config, or its chain broken. */
  upserted: string[];
  /** Crons whose scheduler matched the config with its next run pending: left alone. */
  kept: string[];
  removed: string[];
  /** Crons whose scheduler could not be put in place (logged by the caller; retried next time). */
  failed: { task: string; error: string }[];
}

/**
 * Makes the `ops` queue's schedulers match the config: creates missing ones,
 * updates changed ones, re-creates those whose chain is broken, removes those
 * the config no longer enables. A healthy scheduler is left alone: an upsert
 * replaces the pending job, and one already waiting for the (one-at-a-time)
 * ops worker would lose its run to the next tick. `redis` is the queue's
 * connection (for the one script BullMQ has no call for).
 */
export async function syncJobSchedulers(
  queue: Queue,
  crons: CronsConfig,
  redis: RedisClient,
): Promise<SyncResult> {
  const result: SyncResult = { upserted: [], kept: [], removed: [], failed: [] };
  const enabled = enabledCrons(crons);
  for (const cron of enabled) {
    try {
      if (await healthy(queue, cron)) {
        result.kept.push(cron.task);
        continue;
      }
      await upsertScheduler(queue, redis, cron);
      result.upserted.push(cron.task);
    } catch (err) {
      result.failed.push({ task: cron.task, error: (err as Error).message });
    }
  }
  const wanted = new Set(enabled.map((c) => c.task));
  for (const s of await queue.getJobSchedulers(0, -1)) {
    const id = s.id ?? s.key;
    if (!wanted.has(id)) {
      await queue.removeJobScheduler(id);
      result.removed.push(id);
    }
  }
  return result;
}

/**
 * Enabled crons whose chain is broken: no scheduler, or a scheduler whose
 * pending job is gone (or already finished, so nothing will make the next).
 */
export async function lostSchedules(queue: Queue, crons: CronsConfig): Promise<string[]> {
  const lost: string[] = [];
  for (const cron of enabledCrons(crons)) if (!(await chainAlive(queue, cron.task))) lost.push(cron.task);
  return lost;
}

/** The scheduler matches the config and its chain is alive. */
async function healthy(queue: Queue, cron: EnabledCron): Promise<boolean> {
  const s = await queue.getJobScheduler(cron.task);
  if (!s || s.pattern !== cron.pattern || (s.tz ?? 'UTC') !== cron.tz || s.name !== cron.task) return false;
  return chainAlive(queue, cron.task);
}

async function chainAlive(queue: Queue, task: string): Promise<boolean> {
  // The chain moves on its own (a job picked up makes the next, and the
  // scheduler's `next` moves with it): look twice before calling it broken.
  for (let look = 0; look < 2; look++) {
    const scheduler = await queue.getJobScheduler(task);
    if (!scheduler?.next) continue;
    if (LIVE_STATES.has(await queue.getJobState(`repeat:${task}:${scheduler.next}`))) return true;
  }
  return false;
}

async function upsertScheduler(queue: Queue, redis: RedisClient, cron: EnabledCron): Promise<void> {
  const repeat = { pattern: cron.pattern, tz: cron.tz };
  for (let attempt = 0; ; attempt++) {
    try {
      await queue.upsertJobScheduler(cron.task, repeat, {
        name: cron.task,
        data: {},
        opts: TEMPLATE_OPTS,
      });
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== SCHEDULER_JOB_ID_COLLISION || attempt >= 2) throw err;
      // The next run's job id is taken by a job the scheduler no longer
      // accounts for: its hash survived while its `delayed` entry was lost, or
      // it is pending while the scheduler's own entry was lost. BullMQ then
      // refuses to create the run again; drop that job and retry.
      const next = defaultRepeatStrategy(Date.now(), repeat);
      if (next === undefined) throw err;
      if (!(await dropPendingJob(queue, redis, `repeat:${cron.task}:${next}`))) throw err;
    }
  }
}

/**
 * Deletes a job that has not started: its entry in the delayed, wait, paused
 * or prioritized collection (if any) and its keys. Never one that is active
 * or finished (returns false). One script, so the job cannot start meanwhile.
 */
const DROP_PENDING = `
local id = ARGV[1]
for i = 4, 6 do
  local t = redis.call('TYPE', KEYS[i])['ok']
  if (t == 'list' and redis.call('LPOS', KEYS[i], id)) or (t == 'zset' and redis.call('ZSCORE', KEYS[i], id)) then
    return 0
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 7, #KEYS do
  local t = redis.call('TYPE', KEYS[i])['ok']
  if t == 'zset' then redis.call('ZREM', KEYS[i], id) elseif t == 'list' then redis.call('LREM', KEYS[i], 0, id) end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
`;

/** KEYS[4..6]: where a job that started is; KEYS[7..]: where a pending one waits. */
const STARTED = ['active', 'completed', 'failed'];
const PENDING = ['delayed', 'wait', 'paused', 'prioritized', 'waiting-children'];

async function dropPendingJob(queue: Queue, redis: RedisClient, jobId: string): Promise<boolean> {
  const job = queue.toKey(jobId);
  const keys = [job, `${job}:logs`, `${job}:lock`, ...[...STARTED, ...PENDING].map((s) => queue.toKey(s))];
  return Number(await redis.eval(DROP_PENDING, keys.length, ...keys, jobId)) === 1;
}
