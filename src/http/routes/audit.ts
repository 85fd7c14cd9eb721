/** GET /v1/audit, /v1/audit/verify and /v1/audit/export (role viewer). */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { auditExportChunks, openAuditExport } from '../../store/auditExport.ts';
import { shardOfAction, verifyAuditChains } from '../../app/partitioned.ts';
import { AuditCursorError, type AuditPage, listAllChains } from '../../app/auditPages.ts';
import { LastdayError } from '../../domain/errors.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function auditRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  addRoutes(app, [
    {
      method: 'GET',
      url: '/v1/audit',
      access: 'viewer',
      handler: async (request, reply) => {
        const q = request.query as { personId?: string; actionId?: string; after?: string; limit?: string };
        const limit = Number(q.limit ?? 500) || 500;
        if (!q.personId && !q.actionId) {
          // Every chain, merged by time; the cursor of the next page in a header (src/app/auditPages.ts).
          let page: AuditPage;
          try {
            page = await listAllChains(ctx, q.after, limit);
          } catch (err) {
            if (err instanceof AuditCursorError) throw new LastdayError('invalid_request', err.message);
            throw err;
          }
          reply.header('lastday-next-after', page.next);
          return { entries: page.entries, count: page.entries.length };
        }
        // A person's entries (and an action's) are in their partition's chain.
        const chain = q.personId
          ? ctx.shardOf(q.personId).audit
          : (await shardOfAction(ctx, q.actionId!)).audit;
        const entries = await chain.list({
          ...(q.personId ? { personId: q.personId } : {}),
          ...(q.actionId ? { actionId: q.actionId } : {}),
          afterSeq: Number(q.after ?? 0) || 0,
          limit,
        });
        return { entries, count: entries.length };
      },
    },
    { method: 'GET', url: '/v1/audit/verify', access: 'viewer', handler: async () => verifyAuditChains(ctx) },
    {
      // The whole chain as NDJSON, streamed (src/store/auditExport.ts); verify it offline
      // with `lastday audit verify-export`.
      method: 'GET',
      url: '/v1/audit/export',
      access: 'viewer',
      handler: async (request, reply) => {
        const exp = await openAuditExport(ctx.redis, ctx.keys, { keyed: ctx.audit.keyed, now: ctx.now });
        const body = Readable.from(auditExportChunks(exp));
        // Headers are sent by now: a failure mid-way cuts the body short, which the
        // export's header line lets the verifier see.
        body.on('error', (err) => request.log.error({ err: err.message }, 'audit export cut short'));
        const name = `lastday-audit-${exp.header.head.seq ?? 'unknown'}.ndjson`;
        return reply
          .header('content-type', 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}"`)
          .send(body);
      },
    },
  ]);
}
