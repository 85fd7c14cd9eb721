/** GET /v1/audit and GET /v1/audit/verify (role viewer). */
import type { FastifyInstance } from 'fastify';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function auditRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  addRoutes(app, [
    {
      method: 'GET',
      url: '/v1/audit',
      access: 'viewer',
      handler: async (request) => {
        const q = request.query as { personId?: string; actionId?: string; after?: string; limit?: string };
        const entries = await ctx.audit.list({
          ...(q.personId ? { personId: q.personId } : {}),
          ...(q.actionId ? { actionId: q.actionId } : {}),
          afterSeq: Number(q.after ?? 0) || 0,
          limit: Number(q.limit ?? 500) || 500,
        });
        return { entries, count: entries.length };
      },
    },
    { method: 'GET', url: '/v1/audit/verify', access: 'viewer', handler: async () => ctx.audit.verify() },
  ]);
}
