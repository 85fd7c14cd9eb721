/**
 * The console's record pages: rejected HR events, the audit chain (verify
 * state, head, latest entries) and alerts (alert entries of the audit chain,
 * the last overdue count, failed milestones among upcoming people).
 */
import type { FastifyInstance } from 'fastify';
import { latestOfAllChains } from '../../app/auditPages.ts';
import { verifyAuditChains } from '../../app/partitioned.ts';
import { addRoutes } from '../../http/routeTable.ts';
import { utcText } from '../format.ts';
import type { ConsoleDeps } from '../plugin.ts';
import { page } from '../plugin.ts';

/** How far back the alerts page looks in each audit chain. */
const ALERT_SCAN = 5000;

export function recordRoutes(scope: FastifyInstance, { ctx }: ConsoleDeps): void {
  addRoutes(scope, [
    {
      method: 'GET',
      url: '/console/rejected',
      access: 'viewer',
      session: true,
      handler: async (request, reply) => {
        const [events, total] = await Promise.all([ctx.events.listRejected(200), ctx.events.rejectedCount()]);
        return page(request, reply, 'rejected', {
          title: 'Rejected events',
          total,
          events: events.map((e) => ({
            ...e,
            when: utcText(e.at),
            input: e.event !== undefined ? JSON.stringify(e.event) : (e.excerpt ?? ''),
          })),
        });
      },
    },
    {
      method: 'GET',
      url: '/console/audit',
      access: 'viewer',
      session: true,
      handler: async (request, reply) => {
        const verify = await verifyAuditChains(ctx);
        const head = await ctx.audit.head();
        const after = Math.max(0, (verify.entries ?? 0) - 100);
        const entries = await ctx.audit.list({ afterSeq: after, limit: 100 });
        return page(request, reply, 'audit', {
          title: 'Audit',
          verify,
          head,
          keyed: ctx.audit.keyed,
          entries: entries
            .reverse()
            .map((e) => ({ ...e, when: utcText(e.at), details: JSON.stringify(e.details) })),
        });
      },
    },
    {
      method: 'GET',
      url: '/console/alerts',
      access: 'viewer',
      session: true,
      handler: async (request, reply) => {
        // Every chain: with partitions, a milestone_failed alert is in its person's.
        const entries = await latestOfAllChains(ctx, ALERT_SCAN);
        const alerts = entries
          .filter((e) => e.type.startsWith('alert.'))
          .map((e) => ({
            ...e,
            kind: e.type.slice('alert.'.length),
            when: utcText(e.at),
            message: typeof e.details.message === 'string' ? e.details.message : JSON.stringify(e.details),
          }));
        const overdue = await ctx.opsRuns.lastOverdue();
        return page(request, reply, 'alerts', {
          title: 'Alerts',
          alerts,
          scanned: entries.length,
          overdue: overdue ? { ...overdue, when: utcText(overdue.at) } : undefined,
        });
      },
    },
  ]);
}
