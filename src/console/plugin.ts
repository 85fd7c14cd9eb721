/**
 * The web console at /console (contract section 5, issue #12): server-rendered
 * HTML for people, with no script at all. Pages are eta templates through
 * @fastify/view; forms post and redirect. Without scripts the CSP can say
 * `script-src 'none'`, which no injected markup can get around; htmx would buy
 * partial refreshes at the price of loading and trusting a script, and no page
 * here needs live updates (holds are decided in seconds, a reload shows them).
 *
 * Layout of the scope: helmet (strict CSP) and the views for everything under
 * it; the sign-in scope keeps its CSRF secret in an HttpOnly cookie (there is
 * no session yet); the signed-in scope keeps it in the Redis session. Every
 * route declares its access (`session: true`: only the console session counts;
 * see src/http/access.ts), so the route-access walk covers these too.
 */
import { fileURLToPath } from 'node:url';
import csrfProtection from '@fastify/csrf-protection';
import helmet from '@fastify/helmet';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LastdayError } from '../domain/errors.ts';
import { refusalPage } from '../http/consoleSession.ts';
import { STATUS_OF } from '../http/errors.ts';
import type { HttpDeps } from '../http/server.ts';
import { consoleCss } from './assets.ts';
import { holdRoutes } from './routes/holds.ts';
import { peopleRoutes } from './routes/people.ts';
import { recordRoutes } from './routes/records.ts';
import { signInRoutes, signOutRoutes } from './routes/signIn.ts';
import { addRoutes } from '../http/routeTable.ts';
import type { ConsoleSession } from '../store/consoleSessions.ts';

const VIEWS = fileURLToPath(new URL('./views/', import.meta.url));

export type ConsoleDeps = HttpDeps;

declare module 'fastify' {
  interface FastifyRequest {
    /** What @fastify/csrf-protection reads the secret from (`_csrf`): the Redis session. */
    session: ConsoleSession | null;
  }
}

export function consolePlugin(app: FastifyInstance, deps: HttpDeps): void {
  const cdeps: ConsoleDeps = deps;
  app.register(async (scope) => {
    await scope.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      // Same-origin pages only; nothing here is meant to be embedded or opened cross-site.
      crossOriginResourcePolicy: { policy: 'same-origin' },
      // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with form posts.
      referrerPolicy: { policy: 'same-origin' },
    });
    await scope.register(fastifyView, {
      engine: { eta: new Eta({ views: VIEWS, autoEscape: true, cache: true }) },
      root: VIEWS,
      production: true,
    });
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
      if (err instanceof LastdayError) {
        return htmlError(reply, STATUS_OF[err.code], err.message);
      }
      if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
        return htmlError(
          reply,
          403,
          'This form was refused: its security token (CSRF) is missing or does not match your session. ' +
            'Reload the page and send it again.',
        );
      }
      const status = err.statusCode;
      if (status && status >= 400 && status < 500) return htmlError(reply, status, err.message);
      request.log.error({ err }, 'console request failed');
      return htmlError(reply, 500, 'Something went wrong on our side; it has been logged. Try again.');
    });

    addRoutes(scope, [
      {
        method: 'GET',
        url: '/',
        access: 'public',
        handler: async (_request, reply) => reply.redirect('/console', 302),
      },
      {
        method: 'GET',
        url: '/console/assets/console.css',
        access: 'public',
        handler: async (_request, reply) =>
          reply
            .type('text/css; charset=utf-8')
            .header('cache-control', 'public, max-age=3600')
            .send(consoleCss),
      },
    ]);

    await scope.register(async (signIn) => signInRoutes(signIn, cdeps));
    await scope.register(async (pages) => {
      pages.decorateRequest('session', null);
      pages.addHook('onRequest', async (request) => {
        request.session = request.consoleSession?.session ?? null;
      });
      await pages.register(csrfProtection, { sessionPlugin: '@fastify/session' });
      signOutRoutes(pages, cdeps);
      peopleRoutes(pages, cdeps);
      holdRoutes(pages, cdeps);
      recordRoutes(pages, cdeps);
    });
  });
}

function htmlError(reply: FastifyReply, status: number, message: string) {
  return reply.status(status).type('text/html; charset=utf-8').send(refusalPage(status, message));
}

/** Renders a page of the signed-in console with what every page needs (nav, who, CSRF token). */
export async function page(
  request: FastifyRequest,
  reply: FastifyReply,
  view: string,
  data: Record<string, unknown>,
  status = 200,
) {
  const me = request.principal;
  const role = me?.role;
  const html = await reply.viewAsync(view, {
    ...data,
    me,
    csrf: request.session ? reply.generateCsrf() : '',
    canDecide: role === 'approver' || role === 'admin',
    isAdmin: role === 'admin',
    path: request.routeOptions.url,
  });
  return reply.status(status).type('text/html; charset=utf-8').send(html);
}
