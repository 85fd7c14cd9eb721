/**
 * Liveness, readiness and Prometheus metrics (no auth: scraped by
 * infrastructure). Gauges read from Redis are sampled at scrape: queue depths,
 * the overdue count (stored by the last overdue run), actions per state, and
 * each enabled cron's last-run age.
 */
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { MILESTONES } from '../../domain/milestone.ts';
import { enabledCrons } from '../../queues/crons.ts';
import { redisReady } from '../../queues/connection.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function healthRoutes(app: FastifyInstance, { ctx, workersReady }: HttpDeps): void {
  addRoutes(app, [
    { method: 'GET', url: '/healthz', access: 'public', handler: async () => ({ ok: true }) },
    {
      method: 'GET',
      url: '/readyz',
      access: 'public',
      handler: async (_request, reply) => {
        let redis = false;
        try {
          // On a cluster: every master, since event ids hash anywhere (src/queues/connection.ts).
          redis = await redisReady(ctx.redis);
        } catch {
          redis = false;
        }
        const workers = workersReady();
        return reply.status(redis && workers ? 200 : 503).send({ ready: redis && workers, redis, workers });
      },
    },
    {
      method: 'GET',
      url: '/metrics',
      access: 'public',
      handler: async (_request, reply) => {
        await Promise.all([sampleQueueDepths(ctx), sampleOps(ctx)]);
        return reply
          .header('content-type', ctx.metrics.registry.contentType)
          .send(await ctx.metrics.registry.metrics());
      },
    },
  ]);
}

async function sampleQueueDepths(ctx: HttpDeps['ctx']): Promise<void> {
  // With partitions, each partition's milestones and actions queues count under their queue's name.
  const shards = ctx.partitions.count > 1 ? ctx.partitions.all().map((p) => ctx.shard(p)) : [];
  const queues: Queue[] = [
    ...(Object.values(ctx.queues) as Queue[]).filter(
      (q) => shards.length === 0 || (q !== ctx.queues.milestones && q !== ctx.queues.actions),
    ),
    ...shards.flatMap((s) => [s.queues.milestones as Queue, s.queues.actions as Queue]),
  ];
  const byName = new Map<string, Queue[]>();
  for (const q of queues) byName.set(q.name, [...(byName.get(q.name) ?? []), q]);
  await Promise.all(
    [...byName.entries()].map(async ([name, list]) => {
      try {
        const all = await Promise.all(
          list.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')),
        );
        const sum: Record<string, number> = {};
        for (const counts of all)
          for (const [state, n] of Object.entries(counts)) sum[state] = (sum[state] ?? 0) + n;
        for (const [state, n] of Object.entries(sum)) ctx.metrics.queueDepth.set({ queue: name, state }, n);
      } catch {
        // Redis away: keep the last sample rather than fail the scrape.
      }
    }),
  );
}

async function sampleOps(ctx: HttpDeps['ctx']): Promise<void> {
  try {
    const overdue = await ctx.opsRuns.lastOverdue();
    for (const m of MILESTONES)
      ctx.metrics.overdueMilestones.set({ milestone: m }, overdue?.byMilestone[m] ?? 0);
    const byState: Record<string, number> = {};
    const shards = ctx.partitions.count > 1 ? ctx.partitions.all().map((p) => ctx.shard(p)) : [ctx];
    for (const counts of await Promise.all(shards.map((s) => s.actions.countByState())))
      for (const [state, n] of Object.entries(counts)) byState[state] = (byState[state] ?? 0) + n;
    for (const [state, n] of Object.entries(byState)) ctx.metrics.holds.set({ state }, n);
    const crons = enabledCrons(ctx.settings.config.crons);
    const runs = await ctx.opsRuns.last(crons.map((c) => c.task));
    const now = ctx.now().getTime();
    ctx.metrics.cronLastRunAge.reset();
    for (const { task } of crons) {
      const finished = Date.parse(runs.get(task)?.finishedAt ?? '');
      if (!Number.isNaN(finished))
        ctx.metrics.cronLastRunAge.set({ cron: task }, Math.max(0, (now - finished) / 1000));
    }
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message }, 'ops metrics sample failed');
  }
}
