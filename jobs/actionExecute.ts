/**
 * Processor of `execute` jobs (queue `actions`): a thin wrapper over
 * executeAction. A retryable failure is thrown so BullMQ retries with backoff;
 * the last failed attempt raises an alert.
 */
import type { Job } from 'bullmq';
import type { Context } from '../src/app/context.ts';
import { type ExecuteOutcome, executeAction } from '../src/guard/execute.ts';
import { ExecutionRetry } from '../src/guard/retry.ts';
import type { GuardService } from '../src/guard/service.ts';
import type { ActionJobData } from '../src/queues/actions.ts';

export function createExecuteProcessor(ctx: Context, guard: GuardService) {
  return async (job: Job<ActionJobData>): Promise<ExecuteOutcome> => {
    const { actionId } = job.data;
    const attempt = job.attemptsMade + 1;
    try {
      const result = await executeAction(ctx, guard, actionId, attempt);
      ctx.log.info({ actionId, attempt, ...result }, 'managed action run');
      return result;
    } catch (err) {
      const last = attempt >= (job.opts.attempts ?? 1);
      if (err instanceof ExecutionRetry && last) {
        await ctx.alerts.raise({
          kind: 'action_callback_failed',
          message: `${err.message}; giving up after ${attempt} attempts`,
          actionId,
          details: { attempts: attempt },
        });
      }
      throw err;
    }
  };
}
