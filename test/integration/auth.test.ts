/**
 * Bearer-token auth on every read and admin route (contract section 5): a table
 * of route × token. Missing or unknown token: 401; too low a role: 403;
 * `system` is separate and opens none of these.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { api } from '../helpers/http.ts';
import { bearer, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

let rt: Runtime;
let url: string;

beforeAll(async () => {
  rt = await testRuntime(testSettings(), { roles: ['api'] });
  url = rt.url!;
  const seeded = await api(
    url,
    'PUT',
    '/v1/directory/users/auth-user',
    { active: true, grants: [] },
    bearer(TOKENS.admin),
  );
  expect(seeded.status).toBe(200);
});
afterAll(async () => {
  await rt?.stop();
});

type Need = 'viewer' | 'admin';
const ROUTES: { method: string; path: string; need: Need; body?: unknown }[] = [
  { method: 'GET', path: '/v1/people/auth-user', need: 'viewer' },
  { method: 'GET', path: '/v1/offboardings?from=2026-01-01&to=2027-01-01', need: 'viewer' },
  { method: 'GET', path: '/v1/audit?personId=auth-user', need: 'viewer' },
  { method: 'GET', path: '/v1/audit/verify', need: 'viewer' },
  { method: 'GET', path: '/v1/directory/users/auth-user', need: 'viewer' },
  { method: 'GET', path: '/v1/hr-events/rejected', need: 'viewer' },
  { method: 'PUT', path: '/v1/directory/users/auth-user', need: 'admin', body: { active: true, grants: [] } },
];

const CALLERS: { who: string; headers: Record<string, string>; rank: number }[] = [
  { who: 'no token', headers: {}, rank: -1 },
  { who: 'unknown token', headers: bearer('not-a-configured-token'), rank: -1 },
  { who: 'viewer', headers: bearer(TOKENS.viewer), rank: 1 },
  { who: 'approver', headers: bearer(TOKENS.approver), rank: 2 },
  { who: 'admin', headers: bearer(TOKENS.admin), rank: 3 },
  { who: 'system', headers: bearer(TOKENS.system), rank: 0 },
];

const RANK_NEEDED: Record<Need, number> = { viewer: 1, admin: 3 };

const cases = ROUTES.flatMap((route) => CALLERS.map((caller) => ({ ...route, ...caller })));

describe('route × token', () => {
  it.each(cases)('$method $path as $who', async ({ method, path, body, headers, rank, need }) => {
    const res = await api(url, method, path, body, headers);
    if (rank < 0) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    } else if (rank < RANK_NEEDED[need]) {
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    } else {
      expect([200, 404]).toContain(res.status);
      if (res.status === 404) expect(res.body.error.code).toBe('not_found');
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
