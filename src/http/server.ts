/**
 * The HTTP API (fastify): contract sections 2, 4 and 5. Each resource has its
 * own routes file with a table of its routes, each declaring its access; one
 * global hook (access.ts) decides on the matched route before any handler runs.
 * Which resources a server has is the route table's say (src/app/routes.ts).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Context } from '../app/context.ts';
import { LastdayError } from '../domain/errors.ts';
import type { ConsoleSessionStore } from '../store/consoleSessions.ts';
import { nestingDepth } from '../store/inputDigest.ts';
import { accessHook } from './access.ts';
import { TokenAuth } from './auth.ts';
import { errorBody, STATUS_OF } from './errors.ts';
import { RequestLogController } from './requestLog.ts';
import { recordRoutes, routesOf } from './routeTable.ts';

/** Arrays and objects a JSON request body may nest (the signed HR webhook keeps its own rules). */
const MAX_BODY_DEPTH = 128;

export interface HttpDeps {
  ctx: Context;
  auth: TokenAuth;
  /** Web console sessions (src/console), checked by the access hook on session routes. */
  sessions: ConsoleSessionStore;
  /** True once the workers run (for /readyz). */
  workersReady: () => boolean;
}

export type RouteRegistrar = (app: FastifyInstance, deps: HttpDeps) => void;

export interface ServerOptions {
  workersReady: () => boolean;
  /** Every route, in one table (src/app/routes.ts). */
  routes: readonly RouteRegistrar[];
}

export async function buildServer(ctx: Context, options: ServerOptions): Promise<FastifyInstance> {
  // Typed as the default instance: routes files need not know the logger type.
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }),
    // Quiet on hot routes (the gate): see requestLog.ts.
    logController: new RequestLogController(),
    bodyLimit: 1024 * 1024,
    // Person ids may hold `/` (sent as %2F) and be long.
    routerOptions: { maxParamLength: 1000 },
    trustProxy: false,
  }) as unknown as FastifyInstance;
  const deps: HttpDeps = {
    ctx,
    auth: new TokenAuth(ctx.settings.config.auth.tokens),
    sessions: ctx.consoleSessions,
    workersReady: options.workersReady,
  };

  // First, before any route or scope exists: hooks are copied into child scopes
  // when they are created, and this one must guard every route of every scope.
  recordRoutes(app);
  app.decorateRequest('principal', null);
  app.decorateRequest('credential', null);
  app.decorateRequest('consoleSession', null);
  app.addHook('onRequest', accessHook(deps.auth, ctx.log.child({ component: 'http' }), deps.sessions));

  // JSON.parse rather than fastify's parser: a `__proto__` key becomes a plain own
  // property (no pollution) that strict schemas then reject as an unknown field,
  // and the answer is the contract's error shape.
  app.removeContentTypeParser('application/json');
  // JSON.parse itself copes with any nesting, but whatever later serialises the
  // value recursively (JSON.stringify when storing an action's payload) overflows
  // the stack on 20,000 nested arrays: refuse such bodies here, once, as a 400.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if ((body as string).length === 0) return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(body as string);
    } catch {
      return done(new LastdayError('invalid_request', 'body is not valid JSON'), undefined);
    }
    if (nestingDepth(value, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
      return done(
        new LastdayError('invalid_request', `body nests deeper than ${MAX_BODY_DEPTH} levels`),
        undefined,
      );
    }
    done(null, value);
  });

  app.setErrorHandler((err: Error, request, reply) => {
    if (err instanceof LastdayError) {
      return reply.status(STATUS_OF[err.code]).send(errorBody(err.code, err.message, err.issues, err.extra));
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send(errorBody('invalid_request', err.message));
    }
    request.log.error({ err }, 'request failed');
    if (/ECONNREFUSED|Connection is closed|MaxRetriesPerRequest|ETIMEDOUT/i.test(err.message)) {
      return reply.status(503).send(errorBody('unavailable', 'Redis is unavailable; retry later'));
    }
    return reply.status(500).send(errorBody('internal', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  for (const registrar of options.routes) registrar(app, deps);
  await app.ready();
  for (const route of routesOf(app).filter((r) => r.access === undefined)) {
    ctx.log.error(
      { method: route.method, route: route.url },
      'route declares no access; it is refused to everyone',
    );
  }
  return app;
}
