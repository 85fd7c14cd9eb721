/**
 * Route tables: each resource file lists its routes with the access each one
 * needs (src/http/access.ts) and registers them through `addRoutes`, so the
 * access sits beside the path it guards. `recordRoutes` keeps every route the
 * server ends up with — including those plugins such as bull-board register
 * themselves — so tests walk the real table, not a copy of it.
 */
import type { FastifyInstance, HTTPMethods, RouteHandlerMethod, RouteOptions } from 'fastify';
import type { Access } from './access.ts';
import { lazyChildLogger } from './requestLog.ts';

export interface RouteSpec {
  method: HTTPMethods;
  url: string;
  access: Access;
  /** Accept the dashboard session cookie as a credential (browser page loads). */
  cookie?: boolean;
  /** A web console route: only the console session counts (src/http/consoleSession.ts). */
  session?: boolean;
  /**
   * A hot path (the gate): no request log lines and no pino child logger per
   * request; failures are still logged with the request id (./requestLog.ts).
   */
  hot?: boolean;
  /** Run before the handler (the console's CSRF check). */
  preHandler?: RouteOptions['preHandler'];
  handler: RouteHandlerMethod;
}

export function addRoutes(app: FastifyInstance, routes: readonly RouteSpec[]): void {
  for (const { method, url, access, cookie, session, hot, preHandler, handler } of routes) {
    app.route({
      method,
      url,
      config: {
        access,
        ...(cookie ? { cookie } : {}),
        ...(session ? { session } : {}),
        ...(hot ? { hot } : {}),
      },
      ...(hot ? { childLoggerFactory: lazyChildLogger } : {}),
      ...(preHandler ? { preHandler } : {}),
      handler,
    });
  }
}

/** A registered route as the access hook sees it. */
export interface RegisteredRoute {
  method: string;
  url: string;
  access: Access | undefined;
  cookie: boolean;
  session: boolean;
}

const recorded = new WeakMap<FastifyInstance, RouteOptions[]>();

/**
 * Records every route registered on `app` and below. Call before any route is
 * added. The options objects are kept and read later: scopes' own onRoute
 * hooks (the dashboard's) run after this one and may still set the access.
 */
export function recordRoutes(app: FastifyInstance): void {
  const list: RouteOptions[] = [];
  recorded.set(app, list);
  app.addHook('onRoute', (route) => {
    list.push(route);
  });
}

/** Every route registered on `app` (one entry per method), with its declared access. */
export function routesOf(app: FastifyInstance): RegisteredRoute[] {
  return (recorded.get(app) ?? []).flatMap((route) =>
    (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({
      method: String(method),
      url: route.url,
      access: route.config?.access,
      cookie: route.config?.cookie === true,
      session: route.config?.session === true,
    })),
  );
}
