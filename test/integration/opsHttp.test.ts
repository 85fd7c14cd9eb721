/**
 * The ops HTTP surface: evidence, the queue dashboard (bearer or cookie, viewer
 * reads, admin retries/cleans, nothing else writes), and /metrics. Auth is
 * checked as a table of route × role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { checkOverdue } from '../../jobs/ops/overdue.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { hrEvent } from '../helpers/events.ts';
import { bearer, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

let rt: Runtime;

beforeAll(async () => {
  // API only: nothing runs the milestones, so the past-due notice stays overdue.
  rt = await testRuntime(testSettings(), { roles: ['api'] });
  // Last day in two days: its notice was due days ago.
  const lastDay = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  await applyEvent(rt.ctx, hrEvent({ personId: 'ev/1', lastDay }) as HrEvent);
});
afterAll(async () => {
  await rt?.stop();
});

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await fetch(`${rt.url}${path}`, {
    method,
    headers,
    redirect: 'manual',
    ...(body ? { body } : {}),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

type Who = 'none' | 'bogus' | keyof typeof TOKENS;
const auth = (who: Who): Record<string, string> =>
  who === 'none' ? {} : bearer(who === 'bogus' ? 'not-a-token' : TOKENS[who]);

const readable = { none: 401, bogus: 401, viewer: 200, approver: 200, admin: 200, system: 403 };
const open = { none: 200, bogus: 200, viewer: 200, approver: 200, admin: 200, system: 200 };
const ROUTES: { method: string; path: string; body?: unknown; expect: Record<Who, number> }[] = [
  { method: 'GET', path: '/healthz', expect: open },
  { method: 'GET', path: '/metrics', expect: open },
  { method: 'GET', path: '/v1/people/ev%2F1', expect: readable },
  { method: 'GET', path: '/v1/offboardings', expect: readable },
  { method: 'GET', path: '/v1/audit?personId=ev%2F1', expect: readable },
  { method: 'GET', path: '/v1/audit/verify', expect: readable },
  { method: 'GET', path: '/v1/hr-events/rejected', expect: readable },
  {
    method: 'GET',
    path: '/v1/directory/users/nobody',
    expect: { none: 401, bogus: 401, viewer: 404, approver: 404, admin: 404, system: 403 },
  },
  {
    method: 'PUT',
    path: '/v1/directory/users/someone',
    body: { active: true, grants: [] },
    expect: { none: 401, bogus: 401, viewer: 403, approver: 403, admin: 200, system: 403 },
  },
  {
    method: 'GET',
    path: '/v1/people/ev%2F1/evidence',
    expect: { none: 401, bogus: 401, viewer: 200, approver: 200, admin: 200, system: 403 },
  },
  {
    method: 'GET',
    path: '/ops/queues/api/queues',
    expect: { none: 401, bogus: 401, viewer: 200, approver: 200, admin: 200, system: 403 },
  },
  {
    method: 'PUT',
    path: '/ops/queues/api/queues/milestones/retry/failed',
    expect: { none: 401, bogus: 401, viewer: 403, approver: 403, admin: 200, system: 403 },
  },
  {
    method: 'PUT',
    path: '/ops/queues/api/queues/milestones/clean/completed',
    expect: { none: 401, bogus: 401, viewer: 403, approver: 403, admin: 200, system: 403 },
  },
  {
    method: 'PUT',
    path: '/ops/queues/api/queues/milestones/obliterate',
    expect: { none: 401, bogus: 401, viewer: 403, approver: 403, admin: 403, system: 403 },
  },
  {
    method: 'POST',
    path: '/ops/queues/api/queues/hr-events/add',
    expect: { none: 401, bogus: 401, viewer: 403, approver: 403, admin: 403, system: 403 },
  },
];

describe('ops routes × roles', () => {
  for (const route of ROUTES) {
    for (const [who, status] of Object.entries(route.expect) as [Who, number][]) {
      it(`${route.method} ${route.path} as ${who} → ${status}`, async () => {
        const res = await call(
          route.method,
          route.path,
          { ...auth(who), ...(route.body ? { 'content-type': 'application/json' } : {}) },
          route.body ? JSON.stringify(route.body) : undefined,
        );
        expect(res.status, res.text).toBe(status);
      });
    }
  }
});

describe('evidence', () => {
  it('answers JSON, Markdown, and 404 for an unknown person', async () => {
    const json = JSON.parse((await call('GET', '/v1/people/ev%2F1/evidence', auth('viewer'))).text);
    expect(json).toMatchObject({ person: { id: 'ev/1' }, status: 'scheduled', audit: { chainOk: true } });
    expect(json.plans).toHaveLength(1);
    const md = await call('GET', '/v1/people/ev%2F1/evidence?format=md', auth('viewer'));
    expect(md.headers.get('content-type')).toContain('text/markdown');
    expect(md.text).toContain('## Timeline: planned vs done');
    expect((await call('GET', '/v1/people/nobody/evidence', auth('viewer'))).status).toBe(404);
    expect((await call('GET', '/v1/people/ev%2F1/evidence?format=pdf', auth('viewer'))).status).toBe(400);
  });
});

describe('dashboard login cookie', () => {
  it('sends a browser to the login form, sets a safe cookie, and honours it', async () => {
    const page = await call('GET', '/ops/queues/', { accept: 'text/html' });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/ops/login');
    expect((await call('GET', '/ops/login')).text).toContain('<form method="post"');

    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await call('POST', '/ops/login', form, 'token=wrong')).status).toBe(401);
    const login = await call('POST', '/ops/login', form, `token=${TOKENS.viewer}`);
    expect(login.status).toBe(303);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^lastday_token=/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/ops');
    const cookie = { cookie: setCookie.split(';')[0]! };

    expect((await call('GET', '/ops/queues/', { ...cookie, accept: 'text/html' })).status).toBe(200);
    expect((await call('GET', '/ops/queues/api/queues', cookie)).status).toBe(200);
    // A viewer's cookie cannot retry; an admin's cookie from another origin cannot either.
    expect((await call('PUT', '/ops/queues/api/queues/milestones/retry/failed', cookie)).status).toBe(403);
    const admin = { cookie: `lastday_token=${TOKENS.admin}` };
    expect(
      (
        await call('PUT', '/ops/queues/api/queues/milestones/retry/failed', {
          ...admin,
          origin: 'https://evil.example',
        })
      ).status,
    ).toBe(403);
    expect((await call('PUT', '/ops/queues/api/queues/milestones/retry/failed', admin)).status).toBe(200);
    // The cookie opens the dashboard only, not the API.
    expect((await call('GET', '/v1/people/ev%2F1', cookie)).status).toBe(401);
  });
});

describe('/metrics', () => {
  it('reports overdue milestones from the last overdue run, and queue depths', async () => {
    // Allowance 0: the notice, planned after its instant, is overdue as soon as
    // lastday could act on it and did not (nothing runs milestones here).
    const result = await checkOverdue(rt.ctx, 0);
    expect(result.count).toBeGreaterThanOrEqual(1);
    const text = (await call('GET', '/metrics')).text;
    expect(text).toMatch(/lastday_milestones_overdue\{milestone="notice"\} [1-9]/);
    expect(text).toContain('lastday_queue_jobs{queue="ops",state="waiting"}');
    expect(text).toContain('lastday_alerts_total{kind="milestone_overdue"}');
    // Alerted once per milestone and plan, not on every run.
    expect((await checkOverdue(rt.ctx, 0)).alerted).toBe(0);
  });
});
