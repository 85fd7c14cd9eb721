/**
 * Signing in and out of the console: a form with a field labelled `Token` (the
 * API's bearer tokens, looked up by SHA-256 like src/http/auth.ts does), and,
 * when `auth.oidc` is set, the organisation's OpenID Connect provider
 * (../oidc.ts). A session is created only after the credential checks out,
 * with a fresh random id (no fixation), and the token itself is never stored
 * or logged: a token session keeps the token's hash, so removing the token
 * from the config ends it.
 */
import cookie from '@fastify/cookie';
import csrfProtection from '@fastify/csrf-protection';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LastdayError } from '../../domain/errors.ts';
import { sha256Hex } from '../../http/auth.ts';
import { CONSOLE_LOGIN_PATH, consoleCookie, cookieValue, SESSION_COOKIE } from '../../http/consoleSession.ts';
import { addRoutes } from '../../http/routeTable.ts';
import type { SessionPrincipal } from '../../store/consoleSessions.ts';
import { OIDC_PENDING_TTL_S } from '../../store/consoleSessions.ts';
import { OidcSignIn } from '../oidc.ts';
import type { ConsoleDeps } from '../plugin.ts';
import { page } from '../plugin.ts';

const OIDC_COOKIE = 'lastday_oidc';

export async function signInRoutes(scope: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const { ctx, auth, sessions } = deps;
  const oidcConfig = ctx.settings.config.auth.oidc;
  const oidc = oidcConfig ? new OidcSignIn(oidcConfig, process.env) : undefined;

  // No session yet: the form's CSRF secret lives in an HttpOnly cookie of its own.
  await scope.register(cookie);
  await scope.register(csrfProtection, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'lastday_csrf',
    cookieOpts: { path: CONSOLE_LOGIN_PATH, sameSite: 'strict', httpOnly: true, secure: 'auto' },
  });

  const loginPage = (request: FastifyRequest, reply: FastifyReply, status: number, error?: string) =>
    page(request, reply, 'login', { error, oidc: oidc?.label, loginCsrf: reply.generateCsrf() }, status);

  const startSession = async (
    request: FastifyRequest,
    reply: FastifyReply,
    principal: SessionPrincipal,
    tokenSha256?: string,
  ) => {
    const old = cookieValue(request, SESSION_COOKIE);
    if (old) await sessions.destroy(old);
    const { id } = await sessions.create(
      { principal, via: tokenSha256 ? 'token' : 'oidc', ...(tokenSha256 ? { tokenSha256 } : {}) },
      ctx.now(),
    );
    ctx.log.info(
      { actor: principal.name, role: principal.role, via: tokenSha256 ? 'token' : 'oidc' },
      'console sign-in',
    );
    reply.header('set-cookie', consoleCookie(request, SESSION_COOKIE, id));
  };

  addRoutes(scope, [
    {
      method: 'GET',
      url: CONSOLE_LOGIN_PATH,
      access: 'public',
      handler: async (request, reply) => loginPage(request, reply, 200),
    },
    {
      method: 'POST',
      url: CONSOLE_LOGIN_PATH,
      // The form carries the token itself; it is checked here, once.
      access: 'public',
      preHandler: scope.csrfProtection,
      handler: async (request, reply) => {
        const token = (request.body as { token?: unknown } | undefined)?.token;
        if (typeof token !== 'string' || token.trim() === '') {
          return loginPage(request, reply, 400, 'Enter a token to sign in.');
        }
        let principal;
        try {
          principal = auth.authenticate(token.trim());
        } catch (err) {
          if (!(err instanceof LastdayError)) throw err;
          return loginPage(
            request,
            reply,
            401,
            'That token is not valid. Check that you copied all of it and try again.',
          );
        }
        if (principal.role === 'system') {
          return loginPage(
            request,
            reply,
            403,
            'This is a system token, for tools that register actions; it cannot open the console.',
          );
        }
        await startSession(request, reply, principal as SessionPrincipal, sha256Hex(token.trim()));
        return reply.redirect('/console', 303);
      },
    },
    {
      method: 'GET',
      url: '/console/oidc/start',
      access: 'public',
      handler: async (request, reply) => {
        if (!oidc) throw new LastdayError('not_found', 'single sign-on is not configured');
        const { url, pending } = await oidc.start(request);
        const id = await sessions.putPendingOidc(pending);
        // Lax, not Strict: the provider sends the browser back with a cross-site redirect.
        reply.header(
          'set-cookie',
          consoleCookie(request, OIDC_COOKIE, id, {
            sameSite: 'Lax',
            maxAge: OIDC_PENDING_TTL_S,
            path: '/console/oidc',
          }),
        );
        return reply.redirect(url, 302);
      },
    },
    {
      method: 'GET',
      url: '/console/oidc/callback',
      access: 'public',
      handler: async (request, reply) => {
        if (!oidc) throw new LastdayError('not_found', 'single sign-on is not configured');
        const pendingId = cookieValue(request, OIDC_COOKIE);
        const pending = pendingId ? await sessions.takePendingOidc(pendingId) : undefined;
        reply.header(
          'set-cookie',
          consoleCookie(request, OIDC_COOKIE, '', { maxAge: 0, path: '/console/oidc' }),
        );
        if (!pending) {
          return loginPage(
            request,
            reply,
            400,
            'This sign-in has expired or was started in another browser. Start again.',
          );
        }
        const outcome = await oidc.finish(request, pending);
        if (!outcome.ok) {
          ctx.log.warn({ reason: outcome.log }, 'console OIDC sign-in refused');
          return loginPage(request, reply, outcome.status, outcome.message);
        }
        await startSession(request, reply, outcome.principal);
        // A page, not a redirect: after the provider's cross-site redirect the browser
        // would not send the SameSite=Strict cookie on a redirect; it does on this refresh.
        return page(request, reply, 'signedIn', { to: '/console' });
      },
    },
  ]);
}

/** Sign-out, in the signed-in scope (its CSRF secret is the session's). */
export function signOutRoutes(scope: FastifyInstance, { ctx, sessions }: ConsoleDeps): void {
  addRoutes(scope, [
    {
      method: 'POST',
      url: '/console/logout',
      access: 'viewer',
      session: true,
      preHandler: scope.csrfProtection,
      handler: async (request, reply) => {
        if (request.consoleSession) await sessions.destroy(request.consoleSession.id);
        ctx.log.info({ actor: request.principal?.name }, 'console sign-out');
        return reply
          .header('set-cookie', consoleCookie(request, SESSION_COOKIE, '', { maxAge: 0 }))
          .redirect(CONSOLE_LOGIN_PATH, 303);
      },
    },
  ]);
}
