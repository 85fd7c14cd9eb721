/** Liveness, readiness and Prometheus metrics (no auth: scraped by infrastructure). */
import type { FastifyInstance } from 'fastify';
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
          redis = await redisReady(ctx.redis, ctx.keys.peopleByEnd);
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
        await sampleQueueDepths(ctx);
        return reply
          .header('content-type', ctx.metrics.registry.contentType)
          .send(await ctx.metrics.registry.metrics());
      },
    },
  ]);
}

async function sampleQueueDepths(ctx: HttpDeps['ctx']): Promise<void> {
  await Promise.all(
    Object.values(ctx.queues).map(async (queue) => {
      const name = queue.name;
      try {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
        for (const [state, n] of Object.entries(counts))
          ctx.metrics.queueDepth.set({ queue: name, state }, n);
      } catch {
        // Redis away: keep the last sample rather than fail the scrape.
      }
    }),
  );
}
