/**
 * The ops feature as a runtime extension: the evidence route, the queue
 * dashboard, the overdue/holds gauges on /metrics (api role), and the cron
 * triggers (scheduler role: job schedulers upserted from the config plus the
 * worker of the `ops` queue that runs them, one task at a time per process).
 */
import { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { lastOverdue } from '../../jobs/overdue.ts';
import { createOpsProcessor } from '../../jobs/opsTasks.ts';
import { MILESTONES } from '../domain/milestone.ts';
import { dashboardRoutes } from '../http/routes/dashboard.ts';
import { evidenceRoutes } from '../http/routes/evidence.ts';
import type { HttpDeps } from '../http/server.ts';
import { syncJobSchedulers } from '../queues/crons.ts';
import { QUEUES } from '../queues/names.ts';
import type { Context } from './context.ts';
import type { OpsProviders } from './opsProviders.ts';
import type { Extension } from './runtime.ts';

export function createOpsExtension(providers: OpsProviders): Extension {
  return {
    routes: [evidenceRoutes(providers), dashboardRoutes, opsMetrics(providers)],
    async start(ctx, roles) {
      if (!roles.includes('scheduler')) return { stop: async () => undefined };
      return startScheduler(ctx, providers);
    },
  };
}

async function startScheduler(ctx: Context, providers: OpsProviders) {
  const queue = ctx.connections.watchQueue(
    new Queue(QUEUES.ops, { connection: ctx.redis, prefix: ctx.prefix }),
  );
  const { upserted, removed } = await syncJobSchedulers(queue, ctx.settings.config.crons);
  ctx.log.info({ upserted, removed }, 'cron job schedulers in place');
  const worker = ctx.connections.watchWorker(
    new Worker(QUEUES.ops, createOpsProcessor(ctx, providers), {
      connection: ctx.connections.open('worker', 'lastday-ops'),
      prefix: ctx.prefix,
      concurrency: 1,
      // A reconcile of a large population outlasts the default 30 s lock renewals easily;
      // the lock is renewed while it runs, this only bounds a crashed holder.
      lockDuration: 120_000,
    }),
  );
  worker.on('completed', (job, result) =>
    ctx.log.info({ task: job.name, result: summary(result) }, 'ops task done'),
  );
  worker.on('failed', (job, err) => ctx.log.error({ task: job?.name, err: err.message }, 'ops task failed'));
  await worker.waitUntilReady();
  return {
    async stop() {
      // Like the core workers: the running task may finish within the
      // runtime's shutdown bound (a task cut short is run again by the next tick).
      await worker.close();
      await queue.close();
    },
  };
}

/** Drops long lists from a task result for the log line. */
function summary(result: unknown): unknown {
  if (!result || typeof result !== 'object') return result;
  return Object.fromEntries(
    Object.entries(result).map(([k, v]) => [k, Array.isArray(v) && v.length > 10 ? `${v.length} items` : v]),
  );
}

/** Samples the overdue count (stored by the last overdue run) and holds at scrape time. */
function opsMetrics(providers: OpsProviders) {
  return (app: FastifyInstance, { ctx }: HttpDeps): void => {
    const ops = ctx.connections.watchQueue(
      new Queue(QUEUES.ops, { connection: ctx.redis, prefix: ctx.prefix }),
    );
    app.addHook('onClose', async () => {
      await ops.close();
    });
    app.addHook('onRequest', async (request) => {
      if (request.url !== '/metrics') return;
      try {
        const overdue = await lastOverdue(ctx);
        for (const m of MILESTONES)
          ctx.metrics.overdueMilestones.set({ milestone: m }, overdue?.byMilestone[m] ?? 0);
        const counts = await ops.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
        for (const [state, n] of Object.entries(counts))
          ctx.metrics.queueDepth.set({ queue: QUEUES.ops, state }, n);
        if (providers.holds) {
          for (const [state, n] of Object.entries(await providers.holds.countByState(ctx))) {
            ctx.metrics.holds.set({ state }, n);
          }
        }
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message }, 'ops metrics sample failed');
      }
    });
  };
}
