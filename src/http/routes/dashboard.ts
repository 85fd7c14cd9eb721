/**
 * The queue dashboard (bull-board) at /ops/queues, and its sign-in form.
 *
 * bull-board registers its own routes, so an onRoute hook on its scope gives
 * each one an access from an explicit allow-list (DASHBOARD_WRITES): reading
 * (GET, HEAD) needs `viewer`; retry, clean (of finished jobs), promote, pause
 * and resume need `admin`; every other write the board offers (add jobs, edit
 * job data, delays or priorities, empty or obliterate a queue, edit or run
 * schedulers — the crons belong to the config) is `nobody`'s, refused to every
 * token, and so is any route a newer bull-board adds that is not listed. The
 * global access hook (src/http/access.ts) enforces it on the matched route.
 * Every admin write that succeeds is appended to the audit chain with its actor.
 *
 * With partitions the board shows each partition's milestones and actions
 * queues too (`milestones:<p>`, boardQueues), behind the same access.
 *
 * Promote stays: it only asks a job to run now, and neither a milestone nor a
 * managed action's callback takes effect before its instant whatever happens to
 * its job (the milestone and actions processors put an early run back and
 * audit it).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onSendHookHandler,
  preHandlerHookHandler,
} from 'fastify';
import type { Context } from '../../app/context.ts';
import { LastdayError } from '../../domain/errors.ts';
import type { Access } from '../access.ts';
import { principalOf } from '../access.ts';
import { errorBody } from '../errors.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';
import { COOKIE_MAX_AGE_S, LOGIN_PATH, sessionCookie } from '../session.ts';

export const DASHBOARD_PATH = '/ops/queues';

/** Job states the board may clean: finished work. Removing waiting or delayed jobs would drop events and milestones. */
const CLEANABLE = new Set(['completed', 'failed']);

interface DashboardWrite {
  /** Audited as `dashboard.<operation>`. */
  operation: string;
  /** Extra refusal for this write, given the request's params (undefined: allowed). */
  refuse?: (ctx: Context, params: Record<string, string>) => Promise<string | undefined>;
}

/** The board's writes an admin may use, by `METHOD path` under DASHBOARD_PATH (bull-board 9). */
export const DASHBOARD_WRITES: Readonly<Record<string, DashboardWrite>> = {
  'PUT /api/queues/:queueName/:jobId/retry': { operation: 'retry_job' },
  'PUT /api/queues/:queueName/retry/:queueStatus': { operation: 'retry_all' },
  'PUT /api/queues/:queueName/:jobId/clean': {
    operation: 'clean_job',
    refuse: async (ctx, { queueName = '', jobId = '' }) => {
      const state = await queueNamed(ctx, queueName)?.getJobState(jobId);
      return state !== undefined && state !== 'unknown' && !CLEANABLE.has(state)
        ? `the board cleans finished jobs only; this one is ${state}`
        : undefined;
    },
  },
  'PUT /api/queues/:queueName/clean/:queueStatus': {
    operation: 'clean_all',
    refuse: async (_ctx, { queueStatus = '' }) =>
      CLEANABLE.has(queueStatus) ? undefined : 'the board cleans completed or failed jobs only',
  },
  'PUT /api/queues/:queueName/:jobId/promote': { operation: 'promote_job' },
  'PUT /api/queues/:queueName/promote': { operation: 'promote_all' },
  'PUT /api/queues/:queueName/pause': { operation: 'pause' },
  'PUT /api/queues/:queueName/resume': { operation: 'resume' },
  'PUT /api/queues/pause': { operation: 'pause_all' },
  'PUT /api/queues/resume': { operation: 'resume_all' },
};

/**
 * The access a board route gets: reads → viewer, listed writes → admin,
 * anything else → nobody. A route serving several methods gets the strictest.
 */
export function dashboardAccess(methods: readonly string[], path: string): Access {
  if (methods.every((m) => m === 'GET' || m === 'HEAD')) return 'viewer';
  return methods.length === 1 && DASHBOARD_WRITES[`${methods[0]} ${path}`] ? 'admin' : 'nobody';
}

export function dashboardRoutes(app: FastifyInstance, { ctx, auth }: HttpDeps): void {
  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    addRoutes(scope, [
      {
        method: 'GET',
        url: LOGIN_PATH,
        access: 'public',
        handler: async (_request, reply) => reply.type('text/html; charset=utf-8').send(LOGIN_HTML),
      },
      {
        method: 'POST',
        url: LOGIN_PATH,
        // The form carries the token itself; it is checked here, once.
        access: 'public',
        handler: async (request, reply) => {
          const token = (request.body as { token?: unknown } | undefined)?.token;
          if (typeof token !== 'string' || token === '') {
            throw new LastdayError('invalid_request', 'token: required');
          }
          const principal = auth.authenticate(token);
          ctx.log.info({ actor: principal.name }, 'dashboard login');
          return reply
            .header('set-cookie', sessionCookie(request, token, COOKIE_MAX_AGE_S))
            .redirect(`${DASHBOARD_PATH}/`, 303);
        },
      },
      {
        method: 'POST',
        url: '/ops/logout',
        access: 'public',
        handler: async (request, reply) =>
          reply.header('set-cookie', sessionCookie(request, '', 0)).redirect(LOGIN_PATH, 303),
      },
    ]);

    await scope.register(async (board) => {
      board.addHook('onRoute', (route) => {
        const path = route.url.slice(DASHBOARD_PATH.length) || '/';
        const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
        const access = dashboardAccess(methods, path);
        // A new object: route options may share one config between routes.
        route.config = { ...route.config, access, cookie: true };
        const write = access === 'admin' ? DASHBOARD_WRITES[`${methods[0]} ${path}`] : undefined;
        if (write) {
          route.preHandler = [...hooks(route.preHandler), refuseHook(ctx, write)];
          route.onSend = [...hooks(route.onSend), auditHook(ctx, write.operation, path)];
        }
      });
      const serverAdapter = new FastifyAdapter();
      serverAdapter.setBasePath(DASHBOARD_PATH);
      createBullBoard({
        queues: boardQueues(ctx).map(({ name, queue }) => new NamedQueueAdapter(queue, name)),
        serverAdapter,
        options: { uiConfig: { boardTitle: 'lastday' } },
      });
      await board.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
    });
  });
}

function hooks<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * The queues the board shows, by board name: the global ones under their own
 * names, then each partition's milestones and actions queues as
 * `milestones:<p>`, `actions:<p>` (as `lastday queues` lists them). bull-board
 * keys its routes by name, so two partitions' `milestones` need distinct ones.
 */
export function boardQueues(ctx: Context): { name: string; queue: Queue }[] {
  const global = Object.values(ctx.queues).map((queue: Queue) => ({ name: queue.name, queue }));
  const partitions = ctx.partitions.all().flatMap((p) => {
    const shard = ctx.shard(p);
    if (shard === ctx) return [];
    return [shard.queues.milestones, shard.queues.actions].map((queue: Queue) => ({
      name: `${queue.name}:${p}`,
      queue,
    }));
  });
  return [...global, ...partitions];
}

/** A board entry under a name of lastday's choosing (bull-board's own is the queue's name). */
class NamedQueueAdapter extends BullMQAdapter {
  constructor(
    queue: Queue,
    private readonly boardName: string,
  ) {
    super(queue, boardName === queue.name ? {} : { displayName: boardName });
  }

  override getName(): string {
    return this.boardName;
  }
}

function queueNamed(ctx: Context, name: string) {
  return boardQueues(ctx).find((q) => q.name === name)?.queue;
}

/** Answers 403 itself: bull-board's scope has its own error handler. */
function refuseHook(ctx: Context, write: DashboardWrite): preHandlerHookHandler {
  return async function refuseWrite(request: FastifyRequest, reply: FastifyReply) {
    const why = await write.refuse?.(ctx, request.params as Record<string, string>);
    if (why) return reply.status(403).send(errorBody('forbidden', why));
  };
}

/** Appends a successful admin write to the audit chain, before the answer leaves. */
function auditHook(ctx: Context, operation: string, route: string): onSendHookHandler {
  return async function auditWrite(request, reply, payload) {
    if (reply.statusCode >= 400) return payload;
    const principal = principalOf(request);
    const params = request.params as Record<string, string>;
    const details = {
      route: `${request.method} ${DASHBOARD_PATH}${route}`,
      ...(params.queueName !== undefined ? { queue: params.queueName } : {}),
      ...(params.jobId !== undefined ? { jobId: params.jobId } : {}),
      ...(params.queueStatus !== undefined ? { jobState: params.queueStatus } : {}),
      params,
      status: reply.statusCode,
      via: request.credential,
      ...(principal.personId ? { actorPersonId: principal.personId } : {}),
    };
    await ctx.audit.append({
      at: ctx.now().toISOString(),
      type: `dashboard.${operation}`,
      actor: principal.name,
      details,
    });
    request.log.info({ actor: principal.name, operation, ...details }, 'dashboard write');
    return payload;
  };
}

const LOGIN_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lastday — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
input{width:100%;padding:.5rem;font:inherit;margin:.5rem 0}button{padding:.5rem 1rem;font:inherit}</style>
</head><body><h1>lastday queues</h1>
<p>Paste an API token (role viewer or higher; admin to retry or clean jobs).
It is kept in an HttpOnly cookie for 8 hours.</p>
<form method="post" action="/ops/login"><input type="password" name="token" autocomplete="off" required autofocus>
<button type="submit">Sign in</button></form></body></html>`;
