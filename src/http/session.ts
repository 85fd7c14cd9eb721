/**
 * The browser session for the queue dashboard. Browsers cannot attach an
 * Authorization header to page loads, so the token may also come from the
 * `lastday_token` cookie set by POST /ops/login (a form; never a query string,
 * which would land in logs and history) — on routes that declare they accept it
 * (`config.cookie`), nowhere else. The cookie is HttpOnly (no script can read
 * it), SameSite=Strict (no cross-site request carries it), scoped to /ops,
 * 8 hours, and Secure except on loopback hosts. Writes it authenticates must
 * also come from the same origin (defence in depth beside SameSite).
 */
import type { FastifyRequest } from 'fastify';
import { LastdayError } from '../domain/errors.ts';

export const COOKIE_NAME = 'lastday_token';
export const COOKIE_MAX_AGE_S = 8 * 3600;
/** Where the sign-in form lives; unauthenticated page loads are sent there. */
export const LOGIN_PATH = '/ops/login';

/** The session token from the Cookie header, if any. */
export function cookieToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name !== COOKIE_NAME) continue;
    let value: string;
    try {
      value = decodeURIComponent(rest.join('='));
    } catch {
      return undefined;
    }
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** @throws LastdayError forbidden when the request names another origin. */
export function requireSameOrigin(request: FastifyRequest): void {
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

/** A browser asking for a page (rather than a script asking for data). */
export function isPageLoad(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');
}

/** The Set-Cookie value that stores `value` (empty with `maxAge` 0 clears it). */
export function sessionCookie(request: FastifyRequest, value: string, maxAge: number): string {
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
