/**
 * Processor of `expire` jobs (queue `actions`): cancels a hold nobody decided
 * within `policy.holdExpiryHours`. A job that fires early (clock skew between
 * processes) waits for the rest; one that finds the action decided does nothing.
 */
import { DelayedError, type Job } from 'bullmq';
import type { GuardService } from '../src/guard/service.ts';
import type { ActionJobData } from '../src/queues/actions.ts';

export function createExpireProcessor(guard: GuardService) {
  return async (job: Job<ActionJobData>, token?: string) => {
    const result = await guard.expire(job.data.actionId);
    if (result.outcome === 'not_due') {
      await job.moveToDelayed(result.dueMs, token);
      throw new DelayedError();
    }
    return result;
  };
}
