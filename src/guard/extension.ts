/**
 * The guard as a runtime extension (see src/app/runtime.ts): the action
 * routes (and the reinstatement request, an action too), the `freeze`
 * milestone hook, and the worker of the `actions` queue.
 */
import { type Job, Worker } from 'bullmq';
import { createExecuteProcessor } from '../../jobs/actionExecute.ts';
import { createExpireProcessor } from '../../jobs/holdExpiry.ts';
import type { Extension } from '../app/runtime.ts';
import { actionRoutes } from '../http/routes/actions.ts';
import { reinstatementRoutes } from '../http/routes/reinstatement.ts';
import { type ActionJobData, CALLBACK_BACKOFF } from '../queues/actions.ts';
import { QUEUES } from '../queues/names.ts';
import { guardFor } from './instances.ts';

export interface GuardOptions {
  /** First callback retry delay; doubles per attempt, capped at 5 minutes. Default 1000 ms. */
  callbackRetryBaseMs?: number;
  /** Action jobs processed at once per process. Default 20. */
  concurrency?: number;
}

export function guardExtension(options: GuardOptions = {}): Extension {
  const base = options.callbackRetryBaseMs ?? 1_000;
  return {
    routes: [actionRoutes, reinstatementRoutes],
    milestoneHooks: (ctx) => ({ onFreeze: (record) => guardFor(ctx).freeze(record) }),
    async start(ctx, roles) {
      const guard = guardFor(ctx);
      if (!roles.includes('worker')) return { stop: () => guard.close() };
      const connection = ctx.connections.open('worker', 'lastday-actions');
      const execute = createExecuteProcessor(ctx, guard);
      const expire = createExpireProcessor(guard);
      const worker = new Worker<ActionJobData>(
        QUEUES.actions,
        (job: Job<ActionJobData>, token?: string) =>
          job.name === 'expire' ? expire(job, token) : execute(job),
        {
          connection,
          prefix: ctx.prefix,
          concurrency: options.concurrency ?? 20,
          // As the core workers (runtime.ts): a killed worker's jobs come back
          // after one lock duration, and however often they stall they are put
          // back, never failed for good. BullMQ's default (fail after one
          // stall) lost managed actions for good when two workers died while
          // running them (found by the worker-killed fault test). Reruns are
          // safe: the per-action claim and `executed` keep the callback to one success.
          lockDuration: ctx.settings.config.workers.lockDurationMs,
          stalledInterval: ctx.settings.config.workers.lockDurationMs,
          maxStalledCount: Number.MAX_SAFE_INTEGER,
          settings: {
            backoffStrategy: (attemptsMade: number, type?: string) =>
              type === CALLBACK_BACKOFF
                ? Math.min(base * 2 ** Math.max(0, attemptsMade - 1), 300_000)
                : 1_000,
          },
        },
      );
      ctx.connections.watchWorker(worker);
      worker.on('failed', (job, err) =>
        ctx.log.warn(
          { queue: QUEUES.actions, jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
          'action job failed',
        ),
      );
      await worker.waitUntilReady();
      return {
        async stop() {
          await worker.close();
          await guard.close();
        },
      };
    },
  };
}
