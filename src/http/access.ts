/**
 * Who may call which route. Every route declares its access in its fastify
 * route `config` (`config: { access: 'viewer' }`, see routeTable.ts), and ONE
 * global `onRequest` hook decides on the route the router matched
 * (`request.routeOptions.config`) — never on the raw URL, which the router
 * decodes and which can spell the same route many ways (`/ops/%71ueues`).
 * A route that declares nothing is refused to everyone (deny by default).
 *
 * The hook attaches the caller's principal to the request; handlers read it
 * with `principalOf(request)` and never authorize by themselves.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LastdayError } from '../domain/errors.ts';
import { bearerToken, type Principal, roleAllows, type TokenAuth } from './auth.ts';
import type { ConsoleSessionStore } from '../store/consoleSessions.ts';
import { CONSOLE_LOGIN_PATH, cookieValue, refusalPage, SESSION_COOKIE } from './consoleSession.ts';
import { errorBody, STATUS_OF } from './errors.ts';
import { cookieToken, isPageLoad, LOGIN_PATH, requireSameOrigin } from './session.ts';

/**
 * - `public`: anyone (health, metrics, the sign-in form);
 * - `hr-webhook`: anyone at this layer; the handler checks the Standard
 *   Webhooks signature over the raw body, which no hook can see yet;
 * - `viewer`, `approver`, `admin`, `system`: a bearer token of that role
 *   (viewer < approver < admin; system is separate);
 * - `nobody`: refused to every token (dashboard writes outside the allow-list).
 */
export const ACCESS = ['public', 'hr-webhook', 'viewer', 'approver', 'admin', 'system', 'nobody'] as const;
export type Access = (typeof ACCESS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; a route without one is refused to everyone. */
    access?: Access;
    /** Whether the dashboard session cookie counts as a credential here (page loads). */
    cookie?: boolean;
    /**
     * A web console route: the console session (src/http/consoleSession.ts) is
     * the only credential it accepts, and refusals are HTML pages.
     */
    session?: boolean;
  }
  interface FastifyRequest {
    /** Set by the access hook on routes that need a token; null on public ones. */
    principal: Principal | null;
    /** How the principal presented its token. */
    credential: 'bearer' | 'cookie' | 'session' | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** The global onRequest hook (registered first, so it runs for every route of every scope). */
export function accessHook(auth: TokenAuth, log: Logger, sessions: ConsoleSessionStore) {
  const warned = new Set<string>();
  return async function checkAccess(request: FastifyRequest, reply: FastifyReply) {
    // No route matched: the not-found handler answers 404 whatever the credentials.
    if (request.is404) return;
    const { access, cookie, session, method, url } = request.routeOptions.config;
    if (access === undefined && !warned.has(`${method} ${url}`)) {
      warned.add(`${method} ${url}`);
      log.error({ method, route: url }, 'route declares no access; refusing it to everyone');
    }
    if (access === 'public' || access === 'hr-webhook') return;
    if (session === true) {
      try {
        await decideSession(auth, sessions, request, access ?? 'nobody');
      } catch (err) {
        if (!(err instanceof LastdayError)) throw err;
        if (err.code === 'unauthorized' && isPageLoad(request)) {
          return reply.redirect(CONSOLE_LOGIN_PATH, 302);
        }
        return reply
          .status(STATUS_OF[err.code])
          .type('text/html; charset=utf-8')
          .send(refusalPage(STATUS_OF[err.code], err.message));
      }
      return;
    }
    try {
      decide(auth, request, access ?? 'nobody', cookie === true);
    } catch (err) {
      if (!(err instanceof LastdayError)) throw err;
      if (err.code === 'unauthorized' && cookie === true && isPageLoad(request)) {
        return reply.redirect(LOGIN_PATH, 302);
      }
      // Answered here rather than thrown: scopes such as bull-board's set their
      // own error handlers, which would turn a refusal into something else.
      return reply.status(STATUS_OF[err.code]).send(errorBody(err.code, err.message));
    }
  };
}

function decide(auth: TokenAuth, request: FastifyRequest, access: Access, acceptsCookie: boolean): void {
  const header = request.headers.authorization;
  let token: string | undefined;
  let via: 'bearer' | 'cookie';
  if (header !== undefined || !acceptsCookie) {
    token = bearerToken(header);
    via = 'bearer';
  } else {
    token = cookieToken(request);
    via = 'cookie';
  }
  if (token === undefined) {
    throw new LastdayError(
      'unauthorized',
      acceptsCookie ? 'missing bearer token or lastday_token cookie' : 'missing bearer token',
    );
  }
  const principal = auth.authenticate(token);
  if (access === 'nobody' || access === 'public' || access === 'hr-webhook') {
    throw new LastdayError('forbidden', 'no token may do this');
  }
  if (!roleAllows(principal.role, access)) {
    throw new LastdayError('forbidden', `role ${principal.role} may not do this; needs ${access}`);
  }
  if (via === 'cookie' && !SAFE_METHODS.has(request.method)) requireSameOrigin(request);
  request.principal = principal;
  request.credential = via;
}

/** A console route: the session cookie names a live session whose principal has the role. */
async function decideSession(
  auth: TokenAuth,
  sessions: ConsoleSessionStore,
  request: FastifyRequest,
  access: Access,
): Promise<void> {
  const id = cookieValue(request, SESSION_COOKIE);
  const found = id === undefined ? undefined : await sessions.get(id);
  if (id === undefined || !found) {
    throw new LastdayError(
      'unauthorized',
      'Your session has ended or you have not signed in. Sign in again.',
    );
  }
  // A token sign-in follows the config: a removed token ends its sessions, a changed role applies.
  const principal =
    found.tokenSha256 !== undefined ? auth.byDigest(found.tokenSha256) : (found.principal as Principal);
  if (!principal) throw new LastdayError('unauthorized', 'The token of this session is no longer valid.');
  if (access === 'nobody' || access === 'public' || access === 'hr-webhook' || access === 'system') {
    throw new LastdayError('forbidden', 'No one may do this from the console.');
  }
  if (!roleAllows(principal.role, access)) {
    throw new LastdayError(
      'forbidden',
      `Signed in as ${principal.name} (${principal.role}); this needs ${access}.`,
    );
  }
  if (!SAFE_METHODS.has(request.method)) requireSameOrigin(request);
  request.principal = principal;
  request.credential = 'session';
  request.consoleSession = { id, session: found };
}

/**
 * The principal the access hook attached. Only routes that declare a role
 * have one; asking on another is a programming error.
 */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`no principal on ${request.method} ${request.routeOptions.url}`);
  return request.principal;
}
