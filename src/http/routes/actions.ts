/**
 * Destructive actions and the gate (contract section 4):
 * POST /v1/actions, POST /v1/actions/:id/gate (role system);
 * POST /v1/actions/:id/approve, POST /v1/actions/:id/cancel (role approver);
 * GET /v1/actions/:id, GET /v1/holds (role viewer).
 * Rules live in the guard service, shared with the CLI.
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../access.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function actionRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  const { guard } = ctx;

  addRoutes(app, [
    {
      method: 'POST',
      url: '/v1/actions',
      access: 'system',
      handler: async (request, reply) => {
        const answer = await guard.register(request.body, principalOf(request));
        await ctx.replicas.wait();
        return reply.status(201).send(answer);
      },
    },
    {
      method: 'POST',
      url: '/v1/actions/:actionId/gate',
      access: 'system',
      // Every destructive operation of the calling tools waits on it.
      hot: true,
      handler: async (request) => guard.gate(actionIdOf(request.params), principalOf(request)),
    },
    {
      method: 'POST',
      url: '/v1/actions/:actionId/approve',
      access: 'approver',
      handler: async (request) => {
        const principal = principalOf(request);
        // The approver is the token's person; a body cannot name someone else.
        const answer = await guard.approve(actionIdOf(request.params), principal.personId, principal);
        await ctx.replicas.wait();
        return answer;
      },
    },
    {
      method: 'POST',
      url: '/v1/actions/:actionId/cancel',
      access: 'approver',
      handler: async (request) => {
        const body = request.body as { reason?: unknown } | undefined;
        const why = typeof body?.reason === 'string' ? body.reason.slice(0, 2000) : undefined;
        const answer = await guard.cancel(actionIdOf(request.params), principalOf(request), why);
        await ctx.replicas.wait();
        return answer;
      },
    },
    {
      method: 'GET',
      url: '/v1/actions/:actionId',
      access: 'viewer',
      handler: async (request) => guard.get(actionIdOf(request.params)),
    },
    {
      method: 'GET',
      url: '/v1/holds',
      access: 'viewer',
      handler: async (request) => {
        const q = request.query as { limit?: string; offset?: string };
        return guard.holds({
          ...(q.limit ? { limit: Number(q.limit) || 1000 } : {}),
          ...(q.offset ? { offset: Number(q.offset) || 0 } : {}),
        });
      },
    },
  ]);
}

function actionIdOf(params: unknown): string {
  return (params as { actionId: string }).actionId;
}
