/** GET /v1/audit and GET /v1/audit/verify (role viewer). */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../server.ts';

export function auditRoutes(app: FastifyInstance, { ctx, auth }: HttpDeps): void {
  app.get('/v1/audit', async (request) => {
    auth.authorize(request, 'viewer');
    const q = request.query as { personId?: string; actionId?: string; after?: string; limit?: string };
    const entries = await ctx.audit.list({
      ...(q.personId ? { personId: q.personId } : {}),
      ...(q.actionId ? { actionId: q.actionId } : {}),
      afterSeq: Number(q.after ?? 0) || 0,
      limit: Number(q.limit ?? 500) || 500,
    });
    return { entries, count: entries.length };
  });

  app.get('/v1/audit/verify', async (request) => {
    auth.authorize(request, 'viewer');
    return ctx.audit.verify();
  });
}
