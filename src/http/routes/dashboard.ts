/**
 * The queue dashboard (bull-board) at /ops/queues, behind the bearer-token auth:
 * reading needs `viewer`; retry, clean, promote, pause and resume need `admin`.
 * Everything else the board can do (add jobs, edit job data or delays, empty or
 * obliterate a queue, edit schedulers — the crons belong to the config) is
 * refused for everyone. The board's buttons show for every role; the server
 * answers 403 to a write the role may not do.
 *
 * Browsers cannot attach an Authorization header to page loads, so the token
 * may also come from the `lastday_token` cookie set by POST /ops/login (a form;
 * never a query string, which would land in logs and history). The cookie is
 * HttpOnly (no script can read it), SameSite=Strict (no cross-site request
 * carries it), scoped to /ops, 8 hours, and Secure except on loopback hosts.
 * Writes authenticated by cookie must also come from the same origin.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LastdayError } from '../../domain/errors.ts';
import type { TokenAuth } from '../auth.ts';
import { errorBody, STATUS_OF } from '../errors.ts';
import type { HttpDeps } from '../server.ts';

export const DASHBOARD_PATH = '/ops/queues';
export const COOKIE_NAME = 'lastday_token';
const COOKIE_MAX_AGE_S = 8 * 3600;

/** The board's write routes an admin may use (paths under DASHBOARD_PATH). */
const ADMIN_WRITES = [
  /^\/api\/queues\/[^/]+\/(retry|clean)\/[^/]+$/,
  /^\/api\/queues\/[^/]+\/promote$/,
  /^\/api\/queues\/[^/]+\/[^/]+\/(retry|clean|promote)$/,
  /^\/api\/queues\/(pause|resume)$/,
  /^\/api\/queues\/[^/]+\/(pause|resume)$/,
];

export function dashboardRoutes(app: FastifyInstance, { ctx, auth }: HttpDeps): void {
  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    scope.get('/ops/login', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(LOGIN_HTML),
    );

    scope.post('/ops/login', async (request, reply) => {
      const token = (request.body as { token?: unknown } | undefined)?.token;
      if (typeof token !== 'string' || token === '') {
        throw new LastdayError('invalid_request', 'token: required');
      }
      const principal = auth.authorizeToken(token, 'viewer');
      ctx.log.info({ actor: principal.name }, 'dashboard login');
      return reply
        .header('set-cookie', cookie(request, token, COOKIE_MAX_AGE_S))
        .redirect(`${DASHBOARD_PATH}/`, 303);
    });

    scope.post('/ops/logout', async (request, reply) =>
      reply.header('set-cookie', cookie(request, '', 0)).redirect('/ops/login', 303),
    );

    // bull-board sets its own error handler on its routes, so refusals are answered here.
    scope.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith(DASHBOARD_PATH)) return;
      try {
        guard(auth, request);
      } catch (err) {
        if (!(err instanceof LastdayError)) throw err;
        if (err.code === 'unauthorized' && isPageLoad(request)) return reply.redirect('/ops/login', 302);
        return reply.status(STATUS_OF[err.code]).send(errorBody(err.code, err.message));
      }
    });

    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(DASHBOARD_PATH);
    createBullBoard({
      queues: [...Object.values(ctx.queues).map((q) => new BullMQAdapter(q))],
      serverAdapter,
      options: { uiConfig: { boardTitle: 'lastday' } },
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}

/** Who may do what on the dashboard (see the module comment). */
function guard(auth: TokenAuth, request: FastifyRequest): void {
  const read = request.method === 'GET' || request.method === 'HEAD';
  authorizeDashboard(auth, request, read ? 'viewer' : 'admin');
  if (read) return;
  if (!request.headers.authorization) sameOrigin(request);
  const path = request.url.split('?')[0]!.slice(DASHBOARD_PATH.length);
  if (!ADMIN_WRITES.some((re) => re.test(path))) {
    throw new LastdayError('forbidden', 'the dashboard only retries, cleans, promotes, pauses and resumes');
  }
}

function isPageLoad(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

function authorizeDashboard(auth: TokenAuth, request: FastifyRequest, need: 'viewer' | 'admin') {
  if (request.headers.authorization) return auth.authorize(request, need);
  const token = cookieToken(request);
  if (!token) throw new LastdayError('unauthorized', 'missing bearer token or lastday_token cookie');
  return auth.authorizeToken(token, need);
}

function cookieToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE_NAME) {
      const value = decodeURIComponent(rest.join('='));
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

/** Cookie-authenticated writes must come from this origin (defence in depth beside SameSite). */
function sameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== request.headers.host) throw new LastdayError('forbidden', 'cross-origin request refused');
}

function cookie(request: FastifyRequest, value: string, maxAge: number): string {
  const hostname = request.hostname.replace(/:\d+$/, '');
  const loopback = hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
  return [
    `${COOKIE_NAME}=${encodeURIComponent(value)}`,
    'Path=/ops',
    `Max-Age=${maxAge}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(loopback && request.protocol !== 'https' ? [] : ['Secure']),
  ].join('; ');
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
