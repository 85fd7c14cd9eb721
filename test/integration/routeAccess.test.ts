/**
 * Every registered route × every credential × many spellings of its path
 * (issue #9 item 1, STYLE.md "one table, many checks"). The routes come from
 * the server itself (its onRoute record: the API, health, the webhook, the
 * sign-in form, the action routes, evidence, and every route bull-board
 * registered), not from a copy kept here. Requests go out over a real socket
 * with the path sent byte for byte (node:http: fetch would fold `/./`, `%2e`…).
 *
 * Without the right credential no spelling may get anything but 401, 403, 404
 * or 405; with it, the route answers (never 401/403, never 5xx), and spellings
 * the router decodes to the same route answer the same. The canonical path and
 * the same-route spellings are tried with every credential; the other
 * spellings (case, slashes, dot segments, `;`, queries…) with one credential
 * of each refused kind plus an admin, which keeps the walk to seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/app/routes.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { Role } from '../../src/config/schema.ts';
import type { Access } from '../../src/http/access.ts';
import { roleAllows, sha256Hex } from '../../src/http/auth.ts';
import { type RegisteredRoute, routesOf } from '../../src/http/routeTable.ts';
import { ConsoleClient, csrfOf } from '../helpers/console.ts';
import { bearer, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';
import { rawAgent, type RawResponse, rawRequest } from '../helpers/rawHttp.ts';

/** A route registered without an access declaration: it must be refused to everyone. */
const UNDECLARED = '/v1/undeclared-probe';

let rt: Runtime;
let routes: RegisteredRoute[];
const agent = rawAgent();

beforeAll(async () => {
  rt = await testRuntime(testSettings(), {
    // API only: the board's pause/retry/clean run for real but no worker reacts.
    roles: ['api'],
    routes: [...ROUTES, (app) => void app.get(UNDECLARED, async () => ({ secret: true }))],
  });
  routes = routesOf(rt.server!);
  for (const role of ['viewer', 'approver', 'admin'] as const) {
    CREDENTIALS.push({
      name: `${role} console session`,
      role,
      session: true,
      headers: await consoleSession(role),
    });
  }
});

/** Headers of a fresh console session: its cookie and its CSRF token (so forms reach their handlers). */
async function consoleSession(role: 'viewer' | 'approver' | 'admin'): Promise<Record<string, string>> {
  const c = new ConsoleClient(rt.url!);
  const signedIn = await c.signIn(TOKENS[role]);
  if (signedIn.status !== 303) throw new Error(`console sign-in as ${role}: ${signedIn.status}`);
  const home = await c.get('/console');
  return { cookie: `lastday_session=${c.cookies.get('lastday_session')}`, 'x-csrf-token': csrfOf(home.html) };
}
afterAll(async () => {
  agent.destroy();
  await rt?.stop();
});

interface Credential {
  name: string;
  headers: Record<string, string>;
  role?: Role;
  /** Only counts on routes that accept the session cookie. */
  cookie?: true;
  /** A web console session: counts on console routes only, and only it does there. */
  session?: true;
}

const CREDENTIALS: Credential[] = [
  { name: 'none', headers: {} },
  { name: 'wrong token', headers: bearer('not-a-configured-token') },
  { name: 'the stored hash as token', headers: bearer(sha256Hex(TOKENS.admin)) },
  { name: 'malformed header', headers: { authorization: `Basic ${TOKENS.admin}` } },
  { name: 'viewer', headers: bearer(TOKENS.viewer), role: 'viewer' },
  { name: 'approver', headers: bearer(TOKENS.approver), role: 'approver' },
  { name: 'admin', headers: bearer(TOKENS.admin), role: 'admin' },
  { name: 'system', headers: bearer(TOKENS.system), role: 'system' },
  {
    name: 'viewer cookie',
    headers: { cookie: `lastday_token=${TOKENS.viewer}` },
    role: 'viewer',
    cookie: true,
  },
  { name: 'admin cookie', headers: { cookie: `lastday_token=${TOKENS.admin}` }, role: 'admin', cookie: true },
];

/** Values for path parameters: real queue names so board routes reach their handlers. */
const PARAMS: Record<string, string> = {
  personId: 'walk-person',
  actionId: 'walk-action',
  queueName: 'ops',
  jobId: 'walk-job',
  queueStatus: 'completed',
  schedulerId: 'walk-scheduler',
  '*': 'walk.js',
};

function concrete(url: string): string {
  return url
    .replace(/:(\w+)/g, (_m, name: string) => PARAMS[name] ?? `walk-${name}`)
    .replace(/\*$/, PARAMS['*']!);
}

/** Whether the route's own check lets `credential` through (the handler may still say no). */
function admits(route: RegisteredRoute, credential: Credential): boolean {
  const access: Access | undefined = route.access;
  if (access === 'public' || access === 'hr-webhook') return true;
  if (access === undefined || access === 'nobody') return false;
  if (credential.cookie && !route.cookie) return false;
  if (route.session !== (credential.session === true)) return false;
  return credential.role !== undefined && roleAllows(credential.role, access);
}

const hex = (ch: string, upper: boolean) => {
  const h = ch.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? h.toUpperCase() : h}`;
};

/**
 * Spellings that decode to the very same path, so the router must treat them
 * alike: one letter of each segment percent-encoded (lower hex on one segment,
 * upper on the next), and the first letter of every segment at once in each case.
 */
function sameRouteVariants(path: string): string[] {
  const segments = path.split('/');
  const encodeFirstLetter = (segment: string, upper: boolean) => {
    const at = segment.search(/[A-Za-z]/);
    return at < 0 ? segment : segment.slice(0, at) + hex(segment[at]!, upper) + segment.slice(at + 1);
  };
  const out: string[] = [];
  segments.forEach((segment, i) => {
    if (!/[A-Za-z]/.test(segment)) return;
    const s = [...segments];
    s[i] = encodeFirstLetter(segment, i % 2 === 1);
    out.push(s.join('/'));
  });
  for (const upper of [false, true]) out.push(segments.map((s) => encodeFirstLetter(s, upper)).join('/'));
  return out;
}

/** Other spellings: the router may or may not match them, but never past the access check. */
function otherVariants(path: string): string[] {
  const segments = path.split('/');
  const at = (i: number, joiner: string) =>
    segments.slice(0, i + 1).join('/') + joiner + segments.slice(i + 1).join('/');
  const out: string[] = [
    path.toUpperCase(),
    segments.map((s) => s.charAt(0).toUpperCase() + s.slice(1)).join('/'),
    `/${path}`,
    `${path}/`,
    `${path}/.`,
    `${path};jsessionid=1`,
    `${path}?x=1&y`,
    `${path}?token=${TOKENS.admin}`,
    `${path}#fragment`,
    `${path}%00`,
  ];
  for (let i = 1; i < segments.length - 1; i++) {
    const s = [...segments];
    s[i] = `${s[i]};p=1`;
    out.push(
      at(i, i % 2 ? '%2F' : '%2f'),
      at(i, '//'),
      at(i, '/./'),
      at(i, '/x/../'),
      at(i, '\\'),
      s.join('/'),
    );
  }
  const last = segments.length - 2;
  if (last >= 1) out.push(at(last, '/%2e/'), at(last, '/x/%2E%2E/'));
  return out;
}

/**
 * The credentials that stand for every refused one on the other spellings:
 * they reach the access check by the same code paths as the rest of their kind.
 */
function refusalClasses(route: RegisteredRoute): Credential[] {
  const refused = CREDENTIALS.filter((c) => !admits(route, c));
  const byName = (name: string) => refused.filter((c) => c.name === name);
  const roles = refused.filter((c) => c.role !== undefined && !c.cookie && !c.session);
  const cookies = refused.filter((c) => c.cookie);
  const sessions = refused.filter((c) => c.session);
  return [
    ...byName('none'),
    ...byName('wrong token'),
    ...roles.slice(-1), // the strongest refused role
    ...cookies.slice(-1),
    ...sessions.slice(-1),
  ];
}

async function send(route: RegisteredRoute, path: string, credential: Credential): Promise<RawResponse> {
  const { method } = route;
  const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
  // Signing out ends the session it is sent with: each sign-out gets a session of its own.
  const headers =
    credential.session && route.url === '/console/logout'
      ? await consoleSession(credential.role as 'viewer' | 'approver' | 'admin')
      : credential.headers;
  return rawRequest(rt.url!, method, path, {
    agent,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

const REFUSED = [401, 403, 404, 405];

describe('the route table', () => {
  it('holds every kind of route, each with a declared access', () => {
    const urls = routes.map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      'GET /healthz',
      'GET /metrics',
      'POST /v1/hr-events',
      'GET /v1/people/:personId',
      'POST /v1/actions/:actionId/approve',
      'GET /v1/people/:personId/evidence',
      'POST /ops/login',
      'GET /ops/queues/api/queues',
      'HEAD /ops/queues/api/queues',
      'PUT /ops/queues/api/queues/:queueName/pause',
      'POST /ops/queues/api/queues/:queueName/add',
      'GET /',
      'GET /console',
      'POST /console/login',
      'POST /console/logout',
      'POST /console/holds/:actionId/approve',
      'POST /console/holds/:actionId/cancel',
    ]) {
      expect(urls).toContain(expected);
    }
    const undeclared = routes.filter((r) => r.access === undefined).map((r) => r.url);
    expect(undeclared).toEqual([UNDECLARED, UNDECLARED]); // GET and its HEAD
  });

  it('gives bull-board writes to admin only where listed, and nobody the rest', () => {
    const board = routes.filter((r) => r.url.startsWith('/ops/queues'));
    expect(board.length).toBeGreaterThan(30);
    for (const r of board) {
      expect(r.cookie, r.url).toBe(true);
      if (r.method === 'GET' || r.method === 'HEAD') expect(r.access, r.url).toBe('viewer');
      else expect(['admin', 'nobody'], `${r.method} ${r.url}`).toContain(r.access);
    }
    const admin = board.filter((r) => r.access === 'admin').map((r) => `${r.method} ${r.url}`);
    expect(admin.sort()).toEqual(
      [
        'PUT /ops/queues/api/queues/:queueName/:jobId/clean',
        'PUT /ops/queues/api/queues/:queueName/:jobId/promote',
        'PUT /ops/queues/api/queues/:queueName/:jobId/retry',
        'PUT /ops/queues/api/queues/:queueName/clean/:queueStatus',
        'PUT /ops/queues/api/queues/:queueName/pause',
        'PUT /ops/queues/api/queues/:queueName/promote',
        'PUT /ops/queues/api/queues/:queueName/resume',
        'PUT /ops/queues/api/queues/:queueName/retry/:queueStatus',
        'PUT /ops/queues/api/queues/pause',
        'PUT /ops/queues/api/queues/resume',
      ].sort(),
    );
  });
});

describe('every route × every credential × path spellings', () => {
  // Routes are only known once the server is built: one test, listing every failure it finds.
  it('walks the whole table', { timeout: 300_000 }, async () => {
    const failures: string[] = [];
    const note = (what: string) => {
      if (failures.length < 50) failures.push(what);
    };
    await inBatches(routes, 4, async (route) => {
      const path = concrete(route.url);
      for (const credential of CREDENTIALS) {
        const canonical = await send(route, path, credential);
        const label = `${route.method} ${path} as ${credential.name}`;
        if (canonical.status >= 500) note(`${label}: ${canonical.status} ${canonical.text.slice(0, 120)}`);
        if (!admits(route, credential)) {
          if (!REFUSED.includes(canonical.status)) note(`${label}: ${canonical.status}, expected a refusal`);
        } else if (route.access === 'hr-webhook') {
          // No signature: the handler refuses whoever it is.
          if (canonical.status !== 401) note(`${label}: ${canonical.status}, expected 401 bad_signature`);
        } else if (route.access !== 'public' && (canonical.status === 401 || canonical.status === 403)) {
          note(`${label}: ${canonical.status}, expected the route to answer`);
        }

        await inBatches(sameRouteVariants(path), 8, async (variant) => {
          const res = await send(route, variant, credential);
          if (res.status >= 500) note(`${route.method} ${variant} as ${credential.name}: ${res.status}`);
          else if (!admits(route, credential) && !REFUSED.includes(res.status)) {
            note(`${route.method} ${variant} as ${credential.name}: ${res.status}, expected a refusal`);
          } else if (admits(route, credential) && res.status !== canonical.status) {
            note(
              `${route.method} ${variant} as ${credential.name}: ${res.status}, canonical ${canonical.status}`,
            );
          }
        });
        if (!refusalClasses(route).includes(credential) && credential.name !== 'admin') continue;
        await inBatches(otherVariants(path), 8, async (variant) => {
          const res = await send(route, variant, credential);
          if (res.status >= 500) note(`${route.method} ${variant} as ${credential.name}: ${res.status}`);
          else if (!admits(route, credential) && !REFUSED.includes(res.status)) {
            note(`${route.method} ${variant} as ${credential.name}: ${res.status}, expected a refusal`);
          }
        });
      }
    });
    expect(failures).toEqual([]);
  });

  it('an unknown path stays 404 for every credential', async () => {
    for (const credential of CREDENTIALS) {
      for (const path of [
        '/no/such/route',
        '/v1/people',
        '/ops/queues/api/nothing',
        '/ops/%71ueues/nothing',
      ]) {
        const res = await send(
          { method: 'GET', url: path, access: undefined, cookie: false, session: false },
          path,
          credential,
        );
        expect(res.status, `${path} as ${credential.name}`).toBe(404);
      }
    }
  });

  it('a route that declares no access is refused even to an admin, bearer or cookie', async () => {
    for (const credential of CREDENTIALS) {
      const res = await send(
        { method: 'GET', url: UNDECLARED, access: undefined, cookie: false, session: false },
        UNDECLARED,
        credential,
      );
      expect([401, 403], credential.name).toContain(res.status);
      expect(res.text).not.toContain('secret');
    }
  });
});
