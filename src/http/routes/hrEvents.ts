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
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function hrEventRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  const secret = ctx.settings.env.LASTDAY_HR_WEBHOOK_SECRET;
  const webhook = secret ? new Webhook(secret) : undefined;
  const intake = { events: ctx.events, queue: ctx.queues.hrEvents, metrics: ctx.metrics, now: ctx.now };

  // Its own encapsulated context: the body is taken as raw text whatever its
  // content type, so the signature is checked over the exact bytes first, and a
  // correctly signed body that is not JSON is still kept as a rejected event.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    addRoutes(scope, [
      {
        method: 'POST',
        url: '/v1/hr-events',
        // Anyone may knock; the handler admits only a valid signature.
        access: 'hr-webhook',
        handler: async (request, reply) => {
          if (!webhook) {
            throw new LastdayError(
              'bad_signature',
              'LASTDAY_HR_WEBHOOK_SECRET is not set: signed intake is off',
            );
          }
          const raw = typeof request.body === 'string' ? request.body : '';
          const headers = {
            'webhook-id': header(request.headers['webhook-id']),
            'webhook-timestamp': header(request.headers['webhook-timestamp']),
            'webhook-signature': header(request.headers['webhook-signature']),
          };
          // verify() checks the signature, then JSON-parses the payload: any error other
          // than a WebhookVerificationError means the signature held and the body is not JSON.
          let body: unknown;
          try {
            body = webhook.verify(raw, headers);
          } catch (err) {
            if (err instanceof WebhookVerificationError) throw new LastdayError('bad_signature', err.message);
            const issues = [{ path: '', message: 'body is not valid JSON' }];
            await ctx.events.reject({ at: ctx.now().toISOString(), source: 'http', issues, event: raw });
            ctx.metrics.eventsRejected.inc({ source: 'http' });
            return reply
              .status(400)
              .send(errorBody('invalid_event', 'the body is not JSON; it was kept', issues));
          }

          // The webhook-id is remembered against replays, but whether the event is a
          // duplicate is decided by its eventId alone: a delivery whose webhook-id was
          // recorded just before Redis failed must still be accepted when retried.
          const firstDelivery = await ctx.events.markWebhookId(headers['webhook-id']);
          const forget = () =>
            firstDelivery
              ? ctx.events.forgetWebhookId(headers['webhook-id']).catch(() => undefined)
              : undefined;
          let result: Awaited<ReturnType<typeof submitHrEvent>>;
          try {
            result = await submitHrEvent(intake, body, 'http');
          } catch (err) {
            await forget();
            throw err;
          }
          if (result.status === 'rejected') {
            await forget();
            return reply
              .status(400)
              .send(
                errorBody(
                  'invalid_event',
                  'the event is invalid; it was kept with its reasons',
                  result.issues,
                ),
              );
          }
          return reply
            .status(result.status === 'accepted' ? 202 : 200)
            .send({ eventId: result.eventId, status: result.status });
        },
      },
    ]);
  });

  addRoutes(app, [
    {
      method: 'GET',
      url: '/v1/hr-events/rejected',
      access: 'viewer',
      handler: async (request) => {
        const limit = Number((request.query as { limit?: string }).limit ?? 100);
        const rejected = await ctx.events.listRejected(Number.isFinite(limit) ? limit : 100);
        return { rejected, count: rejected.length };
      },
    },
  ]);
}

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}
