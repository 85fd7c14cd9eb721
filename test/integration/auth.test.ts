/**
 * Bearer-token auth on every token route (contract section 5), route × token.
 * The routes are the server's own table (each route declares its access where
 * it is declared; src/app/routes.ts lists them all), not a copy kept here: a
 * route added later is in the matrix the day it is added. Missing or unknown
 * token: 401; too low a role, or `system` on a person's route: 403; enough:
 * the handler answers (never 401/403/5xx). The queue dashboard and the web
 * console (session routes) have their own, finer tests; test/integration/routeAccess.test.ts
 * walks the same table with many spellings of each path.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import type { Role } from '../../src/config/schema.ts';
import { roleAllows } from '../../src/http/auth.ts';
import { routesOf } from '../../src/http/routeTable.ts';
import { DASHBOARD_PATH } from '../../src/http/routes/dashboard.ts';
import { api } from '../helpers/http.ts';
import { bearer, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

// Started at collection time: the matrix below is built from its route table.
const rt: Runtime = await testRuntime(testSettings(), { roles: ['api'] });
const url = rt.url!;
const seeded = await api(
  url,
  'PUT',
  '/v1/directory/users/auth-user',
  { active: true, grants: [] },
  bearer(TOKENS.admin),
);
if (seeded.status !== 200) throw new Error(`seeding failed: ${seeded.status}`);
afterAll(async () => {
  await rt.stop();
});

const TOKEN_ACCESS = new Set(['viewer', 'approver', 'admin', 'system']);
const ROUTES = routesOf(rt.server!)
  // HEAD twins of GET routes answer without a body; routeAccess.test.ts walks them.
  .filter((r) => r.method !== 'HEAD' && r.access !== undefined && TOKEN_ACCESS.has(r.access))
  // The dashboard and the console have their own, finer tests; console pages take only the console session.
  .filter((r) => !r.url.startsWith(DASHBOARD_PATH) && !r.session)
  .map((r) => ({
    method: r.method,
    path: r.url.replace(':personId', 'auth-user').replace(/:(\w+)/g, 'auth-$1'),
    need: r.access as Role,
  }));

const CALLERS: { who: string; headers: Record<string, string>; role?: Role }[] = [
  { who: 'no token', headers: {} },
  { who: 'unknown token', headers: bearer('not-a-configured-token') },
  { who: 'viewer', headers: bearer(TOKENS.viewer), role: 'viewer' },
  { who: 'approver', headers: bearer(TOKENS.approver), role: 'approver' },
  { who: 'admin', headers: bearer(TOKENS.admin), role: 'admin' },
  { who: 'system', headers: bearer(TOKENS.system), role: 'system' },
];

const cases = ROUTES.flatMap((route) => CALLERS.map((caller) => ({ ...route, ...caller })));

describe('route × token', () => {
  it('covers the token routes of the table', () => {
    // The table has them all: reads, admin writes and the action routes.
    expect(ROUTES.length).toBeGreaterThanOrEqual(14);
    expect(new Set(ROUTES.map((r) => r.need))).toEqual(new Set(['viewer', 'approver', 'admin', 'system']));
  });

  it.each(cases)('$method $path as $who', async ({ method, path, headers, role, need }) => {
    // The body is read only for errors: a granted export answers NDJSON.
    const raw = await fetch(`${url}${path}`, { method, headers });
    const text = await raw.text();
    const res = { status: raw.status, body: raw.status >= 400 ? JSON.parse(text) : text };
    if (role === undefined) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    } else if (!roleAllows(role, need)) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    } else {
      expect([401, 403]).not.toContain(res.status);
      expect(res.status).toBeLessThan(500);
    }
    if (res.status >= 400) expect(typeof res.body.error.message).toBe('string');
  });
});

describe('malformed Authorization headers', () => {
  it.each([
    ['Basic dmlld2VyOnRva2Vu'],
    ['Bearer'],
    ['Bearer '],
    [`Token ${TOKENS.viewer}`],
    [`Bearer ${TOKENS.viewer} extra`],
    [TOKENS.viewer],
  ])('%s → 401', async (authorization) => {
    const res = await api(url, 'GET', '/v1/audit/verify', undefined, { authorization });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('a token stored as SHA-256 is matched by hashing, never by the hash itself', async () => {
    const { sha256Hex } = await import('../../src/http/auth.ts');
    const res = await api(url, 'GET', '/v1/audit/verify', undefined, bearer(sha256Hex(TOKENS.admin)));
    expect(res.status).toBe(401);
  });
});

describe('unauthenticated infrastructure routes', () => {
  it.each(['/healthz', '/readyz', '/metrics'])('%s needs no token', async (path) => {
    const res = await fetch(`${url}${path}`);
    expect(res.status).toBe(200);
    await res.text();
  });
});
