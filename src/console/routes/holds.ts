/**
 * The holds inbox: held actions with Approve and Cancel (with a reason). The
 * acting person is the signed-in one; the decision goes through the same
 * GuardService as POST /v1/actions/:id/approve and the CLI, so its refusals
 * (`self_approval`, `approver_departing`, …) are the API's, only said in words.
 * `/console/holds/:actionId` is the link target for one hold (notifications point here).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LastdayError } from '../../domain/errors.ts';
import { principalOf } from '../../http/access.ts';
import { STATUS_OF } from '../../http/errors.ts';
import { addRoutes } from '../../http/routeTable.ts';
import { durationText, twoClocks, utcText } from '../format.ts';
import type { ConsoleDeps } from '../plugin.ts';
import { page } from '../plugin.ts';

/** The path of one hold's page: notifications and the inbox link here. */
export const holdPath = (actionId: string) => `/console/holds/${encodeURIComponent(actionId)}`;

/** Each refusal in words, for the person who clicked. */
function refusalText(err: LastdayError, actionId: string): string {
  switch (err.code) {
    case 'self_approval':
      return 'You cannot approve this action: you started it yourself. A second person must approve it (two-person rule).';
    case 'approver_departing':
      return 'You cannot approve actions while you are leaving the organisation yourself (your offboarding has started). Ask another approver.';
    case 'not_found':
      return `There is no action ${actionId}.`;
    case 'conflict':
      return `Action ${actionId} cannot be decided now: ${err.message}`;
    case 'forbidden':
      return `You may not do this: ${err.message}`;
    default:
      return err.message;
  }
}

export function holdRoutes(scope: FastifyInstance, { ctx }: ConsoleDeps): void {
  const guard = () => ctx.guard;

  const holdView = async (actionId: string) => {
    const action = await guard().get(actionId);
    const initiator = await ctx.shardOf(action.initiatorId).people.get(action.initiatorId);
    const zone = initiator?.person.timezone ?? 'UTC';
    const nowMs = ctx.now().getTime();
    return {
      ...action,
      zone,
      initiatorKnown: initiator !== undefined,
      held: action.heldAt ? twoClocks(action.heldAt, zone) : undefined,
      expires: action.expiresAt
        ? { ...twoClocks(action.expiresAt, zone), in: durationText(Date.parse(action.expiresAt) - nowMs) }
        : undefined,
      url: holdPath(action.actionId),
    };
  };

  const showHold = async (
    request: FastifyRequest,
    reply: FastifyReply,
    actionId: string,
    status = 200,
    message?: { kind: 'error' | 'ok'; text: string },
  ) => {
    const hold = await holdView(actionId);
    const audit = await ctx.shardOf(hold.initiatorId).audit.list({ actionId, limit: 200 });
    return page(
      request,
      reply,
      'hold',
      {
        title: `Action ${actionId}`,
        hold,
        message,
        audit: audit.map((e) => ({ ...e, when: utcText(e.at), details: JSON.stringify(e.details) })),
      },
      status,
    );
  };

  addRoutes(scope, [
    {
      method: 'GET',
      url: '/console/holds',
      access: 'viewer',
      session: true,
      handler: async (request, reply) => {
        const q = request.query as { done?: string; id?: string };
        const { holds, total } = await guard().holds({ limit: 500 });
        const rows = await Promise.all(holds.map((h) => holdView(h.actionId).catch(() => undefined)));
        const done = q.done === 'approved' || q.done === 'cancelled' ? q.done : undefined;
        return page(request, reply, 'holds', {
          title: 'Holds',
          holds: rows.filter((r) => r !== undefined),
          total,
          message: done && q.id ? { kind: 'ok', text: `Action ${q.id.slice(0, 200)} ${done}.` } : undefined,
        });
      },
    },
    {
      method: 'GET',
      url: '/console/holds/:actionId',
      access: 'viewer',
      session: true,
      handler: async (request, reply) => showHold(request, reply, actionIdOf(request)),
    },
    {
      method: 'POST',
      url: '/console/holds/:actionId/approve',
      access: 'approver',
      session: true,
      preHandler: scope.csrfProtection,
      handler: async (request, reply) => {
        const actionId = actionIdOf(request);
        const principal = principalOf(request);
        try {
          // The approver is the signed-in person; the form cannot name someone else.
          await guard().approve(actionId, principal.personId, principal);
        } catch (err) {
          if (!(err instanceof LastdayError)) throw err;
          return refused(request, reply, actionId, err);
        }
        return reply.redirect(`/console/holds?done=approved&id=${encodeURIComponent(actionId)}`, 303);
      },
    },
    {
      method: 'POST',
      url: '/console/holds/:actionId/cancel',
      access: 'approver',
      session: true,
      preHandler: scope.csrfProtection,
      handler: async (request, reply) => {
        const actionId = actionIdOf(request);
        const body = request.body as { reason?: unknown } | undefined;
        const reason = typeof body?.reason === 'string' ? body.reason.trim().slice(0, 2000) : '';
        if (reason === '') {
          return refused(
            request,
            reply,
            actionId,
            new LastdayError('invalid_request', 'Give a reason to cancel: it goes into the audit trail.'),
          );
        }
        try {
          await guard().cancel(actionId, principalOf(request), reason);
        } catch (err) {
          if (!(err instanceof LastdayError)) throw err;
          return refused(request, reply, actionId, err);
        }
        return reply.redirect(`/console/holds?done=cancelled&id=${encodeURIComponent(actionId)}`, 303);
      },
    },
  ]);

  async function refused(request: FastifyRequest, reply: FastifyReply, actionId: string, err: LastdayError) {
    ctx.log.info({ actor: request.principal?.name, actionId, code: err.code }, 'console decision refused');
    if (err.code === 'not_found') throw new LastdayError('not_found', refusalText(err, actionId));
    return showHold(request, reply, actionId, STATUS_OF[err.code], {
      kind: 'error',
      text: refusalText(err, actionId),
    });
  }
}

function actionIdOf(request: FastifyRequest): string {
  return (request.params as { actionId: string }).actionId;
}
