/**
 * The ops feature as a runtime extension: the evidence route, the queue
 * dashboard, the overdue/holds/cron gauges on /metrics (api role), and the
 * cron triggers (scheduler role: job schedulers upserted from the config, the
 * worker of the `ops` queue that runs them, one task at a time per process,
 * and the watchdog that brings lost schedulers back and alerts on late crons).
 */
import { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { lastOverdue } from '../../jobs/overdue.ts';
import { createOpsProcessor } from '../../jobs/opsTasks.ts';
import { MILESTONES } from '../domain/milestone.ts';
import { policyFingerprint } from '../domain/replan.ts';
import { dashboardRoutes } from '../http/routes/dashboard.ts';
import { evidenceRoutes } from '../http/routes/evidence.ts';
import type { HttpDeps } from '../http/server.ts';
import { CRON_TASKS, enabledCrons, syncJobSchedulers } from '../queues/crons.ts';
import { QUEUES } from '../queues/names.ts';
import type { Context } from './context.ts';
import { CronWatchdog, type CronWatchdogOptions } from './cronWatchdog.ts';
import type { OpsProviders } from './opsProviders.ts';
import type { Extension } from './runtime.ts';

export interface OpsOptions {
  /** The cron watchdog's interval and patience (src/app/cronWatchdog.ts). */
  watchdog?: CronWatchdogOptions;
}

export function createOpsExtension(providers: OpsProviders, options: OpsOptions = {}): Extension {
  return {
    routes: [evidenceRoutes(providers), dashboardRoutes, opsMetrics(providers)],
    async start(ctx, roles) {
      if (!roles.includes('scheduler')) return { stop: async () => undefined };
      return startScheduler(ctx, providers, options);
    },
  };
}

async function startScheduler(ctx: Context, providers: OpsProviders, options: OpsOptions) {
  const queue = ctx.queues.ops;
  const sync = await syncJobSchedulers(queue, ctx.settings.config.crons, ctx.redis);
  ctx.log.info({ upserted: sync.upserted, removed: sync.removed }, 'cron job schedulers in place');
  if (sync.failed.length > 0)
    ctx.log.error({ failed: sync.failed }, 'cron job schedulers not in place; the watchdog retries');
  await reconcileIfPolicyChanged(ctx, queue).catch((err: Error) =>
    ctx.log.error({ err: err.message }, 'policy check at start failed; the reconcile cron replans'),
  );
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
  const watchdog = new CronWatchdog(ctx, queue, options.watchdog);
  watchdog.start();
  return {
    async stop() {
      await watchdog.stop();
      // Like the core workers: the running task may finish within the
      // runtime's shutdown bound (a task cut short is run again by the next tick).
      await worker.close();
    },
  };
}

/**
 * Makes this process's policy the one in force (the last scheduler started
 * wins, so an old process left running in a rolling deploy stops replanning),
 * and, when it differs from the one the last complete reconcile pass replanned
 * everyone under (a holiday added, a count changed, a scope edited), queues a
 * reconcile pass now rather than at the next cron tick. The job id names the
 * change, so scheduler processes starting together add it once.
 */
async function reconcileIfPolicyChanged(ctx: Context, queue: Context['queues']['ops']): Promise<void> {
  const current = policyFingerprint(ctx.policy);
  // The last scheduler to start sets the policy in force (reconcile replans only under it).
  await ctx.redis.set(ctx.keys.policyInForce, current);
  const reconciled = await ctx.redis.get(ctx.keys.policyReconciled);
  if (reconciled === current) return;
  if (reconciled === null && (await ctx.people.count()) === 0) {
    // A new install: nobody was planned under anything else.
    await ctx.redis.set(ctx.keys.policyReconciled, current);
    return;
  }
  await queue.add(
    CRON_TASKS.reconcile,
    {},
    {
      jobId: `reconcile-policy-${reconciled ?? 'none'}-${current}`,
      attempts: 1,
      removeOnComplete: { count: 200 },
      removeOnFail: { count: 500 },
    },
  );
  ctx.log.info({ from: reconciled, to: current }, 'policy changed since the last reconcile; reconciling now');
}

/** Drops long lists from a task result for the log line. */
function summary(result: unknown): unknown {
  if (!result || typeof result !== 'object') return result;
  return Object.fromEntries(
    Object.entries(result).map(([k, v]) => [k, Array.isArray(v) && v.length > 10 ? `${v.length} items` : v]),
  );
}

/**
 * Samples at scrape time: the overdue count (stored by the last overdue run),
 * the `ops` queue, holds, and each enabled cron's last-run age.
 */
function opsMetrics(providers: OpsProviders) {
  return (app: FastifyInstance, { ctx }: HttpDeps): void => {
    const ops = ctx.queues.ops;
    const cronAge = cronAgeGauge(ctx);
    app.addHook('onRequest', async (request) => {
      if (request.url !== '/metrics') return;
      try {
        const overdue = await lastOverdue(ctx);
        for (const m of MILESTONES)
          ctx.metrics.overdueMilestones.set({ milestone: m }, overdue?.byMilestone[m] ?? 0);
        const counts = await ops.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
        for (const [state, n] of Object.entries(counts))
          ctx.metrics.queueDepth.set({ queue: QUEUES.ops, state }, n);
        await sampleCronAges(ctx, cronAge);
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

function cronAgeGauge(ctx: Context): Gauge<'cron'> {
  const name = 'lastday_cron_last_run_age_seconds';
  const existing = ctx.metrics.registry.getSingleMetric(name);
  if (existing) return existing as Gauge<'cron'>;
  return new Gauge({
    name,
    help: 'Seconds since each enabled cron last completed a run (sampled at scrape; absent until its first run)',
    labelNames: ['cron'] as const,
    registers: [ctx.metrics.registry],
  });
}

async function sampleCronAges(ctx: Context, gauge: Gauge<'cron'>): Promise<void> {
  const crons = enabledCrons(ctx.settings.config.crons);
  const runs = await ctx.opsRuns.last(crons.map((c) => c.task));
  const now = ctx.now().getTime();
  gauge.reset();
  for (const { task } of crons) {
    const finished = Date.parse(runs.get(task)?.finishedAt ?? '');
    if (!Number.isNaN(finished)) gauge.set({ cron: task }, Math.max(0, (now - finished) / 1000));
  }
}
