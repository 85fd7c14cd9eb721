/**
 * Jobs of the `actions` queue: `execute` calls a managed action's callback at
 * its `executeAt` (if the gate allows), `expire` cancels a hold nobody decided
 * in time. Job ids are deterministic (no `:`, ids encoded), so scheduling the
 * same thing twice is a no-op.
 */
import { createHash } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import { encodeId } from '../domain/ids.ts';

export type ActionJobName = 'execute' | 'expire';

export interface ActionJobData {
  actionId: string;
  /**
   * `expire` jobs of a freeze batch: every action held in that batch (they share
   * one expiry instant). One job per batch instead of one per action keeps a
   * freeze of thousands of actions from being mostly job scheduling.
   */
  actionIds?: string[];
}

/** Backoff type registered on the actions worker for callback retries. */
export const CALLBACK_BACKOFF = 'lastday-callback';

/** Finished actions jobs kept (set on the worker, so no job carries it in its options). */
export const ACTION_RETENTION = {
  completed: { age: 7 * 24 * 3600, count: 100_000 },
  failed: { age: 30 * 24 * 3600 },
};

/** Callback calls retry with capped exponential backoff (see the worker's backoffStrategy). */
export const EXECUTE_JOB_OPTIONS: JobsOptions = {
  attempts: 25,
  backoff: { type: CALLBACK_BACKOFF },
};

/**
 * `exec.<id>` runs at `executeAt`; `exec.<id>.approved` runs an action approved
 * after that (the first job has already found it held and completed).
 */
export function executeJobId(actionId: string, reason: 'scheduled' | 'approved'): string {
  return reason === 'scheduled' ? `exec.${encodeId(actionId)}` : `exec.${encodeId(actionId)}.approved`;
}

export function expireJobId(actionId: string): string {
  return `expire.${encodeId(actionId)}`;
}

/** Deterministic for the same batch and instant, so rescheduling it is a no-op. */
export function expireBatchJobId(actionIds: readonly string[], expiresAtMs: number): string {
  const digest = createHash('sha256')
    .update(`${expiresAtMs}\u0000${[...actionIds].sort().join('\u0000')}`)
    .digest('hex')
    .slice(0, 32);
  return `expire-batch.${digest}`;
}

export type ActionsQueue = Queue<ActionJobData, unknown, ActionJobName>;

export async function scheduleExecution(
  queue: ActionsQueue,
  actionId: string,
  atMs: number,
  nowMs: number,
  reason: 'scheduled' | 'approved',
): Promise<void> {
  await queue.add(
    'execute',
    { actionId },
    { ...EXECUTE_JOB_OPTIONS, jobId: executeJobId(actionId, reason), delay: Math.max(0, atMs - nowMs) },
  );
}

const EXPIRE_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
};

/**
 * Schedules the expiry of actions held together (same expiry instant): one job
 * for a single action (`expire.<id>`), one job for a batch (`expire-batch.<digest>`).
 * The processor expires each listed action that is still held; the `hold-expiry`
 * cron sweep stands behind both.
 */
export async function scheduleExpiries(
  queue: ActionsQueue,
  actionIds: readonly string[],
  expiresAtMs: number,
  nowMs: number,
): Promise<void> {
  const [first] = actionIds;
  if (first === undefined) return;
  const delay = Math.max(0, expiresAtMs - nowMs);
  if (actionIds.length === 1) {
    await queue.add(
      'expire',
      { actionId: first },
      { ...EXPIRE_JOB_OPTIONS, jobId: expireJobId(first), delay },
    );
    return;
  }
  await queue.add(
    'expire',
    { actionId: first, actionIds: [...actionIds] },
    { ...EXPIRE_JOB_OPTIONS, jobId: expireBatchJobId(actionIds, expiresAtMs), delay },
  );
}
