/**
 * Destructive actions and the gate (contract section 4):
 * POST /v1/actions, POST /v1/actions/:id/gate (role system);
 * POST /v1/actions/:id/approve, POST /v1/actions/:id/cancel (role approver);
 * GET /v1/actions/:id, GET /v1/holds (role viewer).
 * Rules live in the guard service, shared with the CLI.
 */
import type { FastifyInstance } from 'fastify';
import { guardFor } from '../../guard/instances.ts';
import type { HttpDeps } from '../server.ts';

export function actionRoutes(app: FastifyInstance, { ctx, auth }: HttpDeps): void {
  const guard = () => guardFor(ctx);

  app.post('/v1/actions', async (request, reply) => {
    const principal = auth.authorize(request, 'system');
    const answer = await guard().register(request.body, principal);
    return reply.status(201).send(answer);
  });

  app.post('/v1/actions/:actionId/gate', async (request) => {
    const principal = auth.authorize(request, 'system');
    return guard().gate(actionIdOf(request.params), principal);
  });

  app.post('/v1/actions/:actionId/approve', async (request) => {
    const principal = auth.authorize(request, 'approver');
    // The approver is the token's person; a body cannot name someone else.
    return guard().approve(actionIdOf(request.params), principal.personId, principal);
  });

  app.post('/v1/actions/:actionId/cancel', async (request) => {
    const principal = auth.authorize(request, 'approver');
    const body = request.body as { reason?: unknown } | undefined;
    const why = typeof body?.reason === 'string' ? body.reason.slice(0, 2000) : undefined;
    return guard().cancel(actionIdOf(request.params), principal, why);
  });

  app.get('/v1/actions/:actionId', async (request) => {
    auth.authorize(request, 'viewer');
    return guard().get(actionIdOf(request.params));
  });

  app.get('/v1/holds', async (request) => {
    auth.authorize(request, 'viewer');
    const q = request.query as { limit?: string; offset?: string };
    return guard().holds({
      ...(q.limit ? { limit: Number(q.limit) || 1000 } : {}),
      ...(q.offset ? { offset: Number(q.offset) || 0 } : {}),
    });
  });
}

function actionIdOf(params: unknown): string {
  return (params as { actionId: string }).actionId;
}
