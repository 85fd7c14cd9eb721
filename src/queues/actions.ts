/**
 * Jobs of the `actions` queue: `execute` calls a managed action's callback at
 * its `executeAt` (if the gate allows), `expire` cancels a hold nobody decided
 * in time. Job ids are deterministic (no `:`, ids encoded), so scheduling the
 * same thing twice is a no-op.
 */
import type { JobsOptions, Queue } from 'bullmq';
import { encodeId } from '../domain/ids.ts';

export type ActionJobName = 'execute' | 'expire';

export interface ActionJobData {
  actionId: string;
}

/** Backoff type registered on the actions worker for callback retries. */
export const CALLBACK_BACKOFF = 'lastday-callback';

const common: JobsOptions = {
  removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** Callback calls retry with capped exponential backoff (see the worker's backoffStrategy). */
export const EXECUTE_JOB_OPTIONS: JobsOptions = {
  ...common,
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

export async function scheduleExpiries(
  queue: ActionsQueue,
  holds: readonly { actionId: string; expiresAtMs: number }[],
  nowMs: number,
): Promise<void> {
  if (holds.length === 0) return;
  await queue.addBulk(
    holds.map((h) => ({
      name: 'expire' as const,
      data: { actionId: h.actionId },
      opts: {
        ...common,
        attempts: 10,
        backoff: { type: 'exponential', delay: 1_000 },
        jobId: expireJobId(h.actionId),
        delay: Math.max(0, h.expiresAtMs - nowMs),
      },
    })),
  );
}
