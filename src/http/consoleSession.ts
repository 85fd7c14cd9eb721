/**
 * The web console's session cookie (src/console). Unlike the queue
 * dashboard's cookie, which carries the token itself, this one carries only a
 * random session id; the session lives in Redis (src/store/consoleSessions.ts).
 * HttpOnly, SameSite=Strict, Path=/console, Secure except on loopback over
 * plain HTTP. Routes that accept it declare `config.session` and accept
 * nothing else: no bearer header, no dashboard cookie.
 */
import type { FastifyRequest } from 'fastify';
import type { ConsoleSession } from '../store/consoleSessions.ts';
import { SESSION_TTL_S } from '../store/consoleSessions.ts';

export const SESSION_COOKIE = 'lastday_session';
export const CONSOLE_LOGIN_PATH = '/console/login';

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session the access hook found (session routes only). */
    consoleSession: { id: string; session: ConsoleSession } | null;
  }
}

/** A cookie's value from the Cookie header; undefined when absent or badly encoded. */
export function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    try {
      const value = decodeURIComponent(rest.join('='));
      return value === '' ? undefined : value;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function secureSuffix(request: FastifyRequest): string[] {
  const hostname = request.hostname.replace(/:\d+$/, '');
  const loopback = hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
  return loopback && request.protocol !== 'https' ? [] : ['Secure'];
}

/** Set-Cookie for the session id (an empty value with maxAge 0 clears it). */
export function consoleCookie(
  request: FastifyRequest,
  name: string,
  value: string,
  options: { maxAge?: number; sameSite?: 'Strict' | 'Lax'; path?: string } = {},
): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path ?? '/console'}`,
    `Max-Age=${options.maxAge ?? SESSION_TTL_S}`,
    'HttpOnly',
    `SameSite=${options.sameSite ?? 'Strict'}`,
    ...secureSuffix(request),
  ].join('; ');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page a refused console request gets: HTML for people, never the API's JSON. */
export function refusalPage(status: number, message: string): string {
  const title = status === 401 ? 'Sign in required' : status === 403 ? 'Not allowed' : 'Refused';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} — lastday</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="stylesheet" href="/console/assets/console.css">
</head><body><main class="narrow"><h1>${title}</h1><p class="error" role="alert">${escapeHtml(message)}</p>
<p><a href="${CONSOLE_LOGIN_PATH}">Sign in</a> · <a href="/console">Console home</a></p></main></body></html>`;
}
