/**
 * Processor of `expire` jobs (queue `actions`): cancels holds nobody decided
 * within `policy.holdExpiryHours` — one action, or every action of a freeze
 * batch. A job that fires early (clock skew between processes) waits for the
 * rest; an action found decided is left alone, so a rerun changes nothing.
 */
import { DelayedError, type Job } from 'bullmq';
import type { GuardService } from '../src/guard/service.ts';
import type { ActionJobData } from '../src/queues/actions.ts';

export function createExpireProcessor(guard: GuardService) {
  return async (job: Job<ActionJobData>, token?: string) => {
    const ids = job.data.actionIds ?? [job.data.actionId];
    let expired = 0;
    let notDueUntil = 0;
    for (const id of ids) {
      const result = await guard.expire(id);
      if (result.outcome === 'expired') expired++;
      if (result.outcome === 'not_due') notDueUntil = Math.max(notDueUntil, result.dueMs);
    }
    if (notDueUntil > 0) {
      await job.moveToDelayed(notDueUntil, token);
      throw new DelayedError();
    }
    return { outcome: expired > 0 ? 'expired' : 'not_held', expired, checked: ids.length };
  };
}
