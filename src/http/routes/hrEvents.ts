/**
 * POST /v1/hr-events: Standard Webhooks signed intake (webhook-id,
 * webhook-timestamp, webhook-signature; 5 minutes tolerance both ways,
 * constant-time signature compare, webhook-id remembered against replays).
 * GET /v1/hr-events/rejected: what was refused, with reasons.
 */
import type { FastifyInstance } from 'fastify';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { LastdayError } from '../../domain/errors.ts';
import { submitHrEvent } from '../../queues/intake.ts';
import { errorBody } from '../errors.ts';
import type { HttpDeps } from '../server.ts';

export function hrEventRoutes(app: FastifyInstance, { ctx, auth }: HttpDeps): void {
  const secret = ctx.settings.env.LASTDAY_HR_WEBHOOK_SECRET;
  const webhook = secret ? new Webhook(secret) : undefined;

  app.post('/v1/hr-events', async (request, reply) => {
    if (!webhook)
      throw new LastdayError('bad_signature', 'LASTDAY_HR_WEBHOOK_SECRET is not set: signed intake is off');
    const raw = (request as { rawBody?: string }).rawBody ?? '';
    const headers = {
      'webhook-id': header(request.headers['webhook-id']),
      'webhook-timestamp': header(request.headers['webhook-timestamp']),
      'webhook-signature': header(request.headers['webhook-signature']),
    };
    try {
      webhook.verify(raw, headers);
    } catch (err) {
      const why = err instanceof WebhookVerificationError ? err.message : 'signature check failed';
      throw new LastdayError('bad_signature', why);
    }
    // The webhook-id is remembered against replays, but whether the event is a
    // duplicate is decided by its eventId alone: a delivery whose webhook-id was
    // recorded just before Redis failed must still be accepted when retried.
    const firstDelivery = await ctx.events.markWebhookId(headers['webhook-id']);
    let result: Awaited<ReturnType<typeof submitHrEvent>>;
    try {
      result = await submitHrEvent(
        { events: ctx.events, queue: ctx.queues.hrEvents, metrics: ctx.metrics, now: ctx.now },
        request.body,
        'http',
      );
    } catch (err) {
      if (firstDelivery) await ctx.events.forgetWebhookId(headers['webhook-id']).catch(() => undefined);
      throw err;
    }
    if (result.status === 'rejected') {
      if (firstDelivery) await ctx.events.forgetWebhookId(headers['webhook-id']).catch(() => undefined);
      return reply.status(400).send({
        ...errorBody('invalid_event', 'the event is invalid; it was kept with its reasons', result.issues),
      });
    }
    return reply
      .status(result.status === 'accepted' ? 202 : 200)
      .send({ eventId: result.eventId, status: result.status });
  });

  app.get('/v1/hr-events/rejected', async (request) => {
    auth.authorize(request, 'viewer');
    const limit = Number((request.query as { limit?: string }).limit ?? 100);
    const rejected = await ctx.events.listRejected(Number.isFinite(limit) ? limit : 100);
    return { rejected, count: rejected.length };
  });
}

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}
