/**
 * POST /v1/hr-events: Standard Webhooks signed intake (webhook-id,
 * webhook-timestamp, webhook-signature; 5 minutes tolerance both ways,
 * constant-time signature compare, webhook-id remembered against replays).
 * GET /v1/hr-events/rejected: what was refused, with reasons.
 *
 * Once the signature holds, the sender is known and nothing it sent is lost:
 * the event is accepted, or kept as rejected with its reasons (a body that is
 * not JSON, or labelled as another content type, included).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { LastdayError } from '../../domain/errors.ts';
import { rejectHrEvent, type Rejection, submitHrEvent } from '../../queues/intake.ts';
import { errorBody } from '../errors.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function hrEventRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  const secret = ctx.settings.env.LASTDAY_HR_WEBHOOK_SECRET;
  const webhook = secret ? new Webhook(secret) : undefined;
  const intake = { events: ctx.events, queue: ctx.queues.hrEvents, metrics: ctx.metrics, now: ctx.now };
  const sentContentType = new WeakMap<FastifyRequest, string | undefined>();

  // Its own encapsulated context: the body is taken as raw text whatever its
  // content type, so the signature is checked over the exact bytes first.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    // fastify answers 415 to an empty or malformed Content-Type before any parser
    // runs, and the event would be lost. The header is not covered by the
    // signature anyway: set it aside here and let the handler judge it.
    scope.addHook('onRequest', async (request) => {
      sentContentType.set(request, request.headers['content-type']);
      delete request.headers['content-type'];
    });

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
          try {
            webhook.verify(raw, headers, { jsonParse: false });
          } catch (err) {
            if (err instanceof WebhookVerificationError) throw new LastdayError('bad_signature', err.message);
            throw err;
          }

          const refuse = async (message: string, issue: { path: string; message: string }) => {
            const rejection = await rejectHrEvent(intake, {
              source: 'http',
              issues: [issue],
              event: parseOr(raw),
              rawText: raw,
            });
            return reply.status(400).send(invalid(`${message}; it was kept`, rejection));
          };
          const contentType = sentContentType.get(request);
          const typeProblem = jsonContentTypeProblem(contentType);
          if (typeProblem) return refuse(typeProblem, { path: 'content-type', message: typeProblem });
          let body: unknown;
          try {
            body = JSON.parse(raw);
          } catch {
            return refuse('the body is not JSON', { path: '', message: 'body is not valid JSON' });
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
            result = await submitHrEvent(intake, body, 'http', raw);
          } catch (err) {
            await forget();
            throw err;
          }
          if (result.status === 'rejected') {
            await forget();
            return reply
              .status(400)
              .send(invalid('the event is invalid; it was kept with its reasons', result));
          }
          // The job is in the global slot, the event id's key (and the
          // webhook id's) each in its own on a cluster: all on a replica first.
          if (result.status === 'accepted') {
            await ctx.replicas.wait([
              ctx.keys.eventSeen(result.eventId),
              ctx.keys.webhookSeen(headers['webhook-id']),
            ]);
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

/**
 * Standard Webhooks payloads are JSON, sent as `application/json`; a sender
 * that leaves the header empty or out is still understood (the signature, not
 * the header, vouches for the body). Anything else is a misconfigured sender:
 * its event is kept as rejected, where someone will see it.
 * @returns why the content type is refused, or undefined when it is JSON
 */
function jsonContentTypeProblem(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const [type = '', ...params] = value.split(';').map((p) => p.trim());
  const media = type.toLowerCase();
  if (media !== 'application/json' && !/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(media)) {
    return `expected application/json, got "${value.slice(0, 100)}"`;
  }
  const charset = params
    .map((p) => /^charset\s*=\s*"?([^";]*)"?$/i.exec(p)?.[1]?.toLowerCase())
    .find((c) => c !== undefined);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return `expected charset utf-8, got "${charset.slice(0, 40)}"`;
  }
  return undefined;
}

function invalid(message: string, rejection: Rejection) {
  return errorBody('invalid_event', message, rejection.issues, {
    issueCount: rejection.issueCount,
    rejectedId: rejection.rejectedId,
  });
}

function parseOr(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}
