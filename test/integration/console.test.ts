/**
 * The web console over HTTP (issue #12): sign-in with a token, the pages an
 * ops person uses, holds decided through the same guard as the API, CSRF on
 * every form, roles, and a session kept in Redis only as a digest.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { ConsoleClient, csrfOf } from '../helpers/console.ts';
import { hrEvent } from '../helpers/events.ts';
import { client, EXTRA, sendHr, settings } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testRuntime } from '../helpers/lastday.ts';

let rt: Runtime;
const lastDay = DateTime.utc().plus({ days: 20 }).setZone('America/Los_Angeles').toISODate()!;

beforeAll(async () => {
  rt = await testRuntime(settings());
  await sendHr(
    rt,
    hrEvent({ personId: 'c-1042', lastDay, endTime: '17:00', timezone: 'America/Los_Angeles' }),
  );
  await eventually(async () => (await rt.ctx.people.get('c-1042'))?.endsAt);
});
afterAll(async () => {
  await rt?.stop();
});

async function registerHeld(actionId: string, initiatorId: string) {
  const res = await client(rt)(
    'POST',
    '/v1/actions',
    { actionId, initiatorId, kind: 'account.delete', target: 'account:@vip-ceo' },
    bearer(TOKENS.system),
  );
  expect(res.body.state).toBe('held');
}

describe('signing in', () => {
  it('sends / and unauthenticated page loads to the sign-in form', async () => {
    const c = new ConsoleClient(rt.url!);
    expect((await c.get('/')).location).toBe('/console');
    const home = await c.get('/console');
    expect(home.status).toBe(302);
    expect(home.location).toBe('/console/login');
    const login = await c.get('/console/login');
    expect(login.html).toMatch(/<label for="token">Token<\/label>/);
    expect(login.headers.get('content-security-policy')).toContain("script-src 'none'");
    expect(login.html).not.toMatch(/<script/i);
  });

  it('shows a wrong token as an HTML page that says so', async () => {
    const c = new ConsoleClient(rt.url!);
    const res = await c.signIn('not-a-token');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.html).toContain('That token is not valid');
    expect(c.cookies.has('lastday_session')).toBe(false);
  });

  it('keeps the session server-side: an HttpOnly SameSite=Strict cookie with a random id', async () => {
    const c = new ConsoleClient(rt.url!);
    const res = await c.signIn(TOKENS.viewer);
    expect(res.status).toBe(303);
    const setCookie = res.headers.getSetCookie().find((l) => l.startsWith('lastday_session='))!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const id = c.cookies.get('lastday_session')!;
    expect(id).not.toContain(TOKENS.viewer);
    const keys = await rt.ctx.redis.keys(`${rt.ctx.prefix}:console:session:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(id);
    expect(await rt.ctx.redis.ttl(keys[0]!)).toBeGreaterThan(3600);
    expect(await rt.ctx.redis.get(keys[0]!)).not.toContain(TOKENS.viewer);
    // Signing out deletes it: the old cookie no longer opens anything.
    const home = await c.get('/console');
    const out = await c.post('/console/logout', { _csrf: csrfOf(home.html) });
    expect(out.location).toBe('/console/login');
    expect(await rt.ctx.redis.keys(`${rt.ctx.prefix}:console:session:*`)).toHaveLength(0);
    const again = await fetch(`${rt.url}/console`, {
      headers: { cookie: `lastday_session=${id}`, accept: 'text/html' },
      redirect: 'manual',
    });
    expect(again.status).toBe(302);
  });

  it('refuses a system token and never accepts a bearer header on console pages', async () => {
    const c = new ConsoleClient(rt.url!);
    expect((await c.signIn(TOKENS.system)).status).toBe(403);
    const res = await fetch(`${rt.url}/console/holds`, { headers: bearer(TOKENS.admin) });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('text/html');
  });
});

describe('pages', () => {
  it('lists an upcoming leaver by week with the local time and UTC', async () => {
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.viewer);
    const res = await c.get('/console');
    expect(res.status).toBe(200);
    const endsAt = DateTime.fromISO(`${lastDay}T17:00`, { zone: 'America/Los_Angeles' });
    expect(res.html).toContain('c-1042');
    expect(res.html).toContain(endsAt.toFormat('ccc d LLL yyyy, HH:mm ZZZZ'));
    expect(res.html).toContain(endsAt.toUTC().toFormat("yyyy-LL-dd HH:mm 'UTC'"));
    expect(res.html).toMatch(/Week \d+:/);
    expect(res.html).toContain('contractor');
    // Filters: an employee-only view leaves the contractor out.
    expect((await c.get('/console?employment=employee')).html).not.toContain('>c-1042<');
  });

  it('shows a person: timeline, milestones, audit trail and evidence to download', async () => {
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.viewer);
    const res = await c.get('/console/people/c-1042');
    expect(res.status).toBe(200);
    expect(res.html).toContain('<svg class="timeline"');
    for (const m of ['notice', 'reduce', 'freeze', 'revoke', 'verify']) expect(res.html).toContain(m);
    expect(res.html).toContain('hr_event.applied');
    const evidence = await c.get('/console/people/c-1042/evidence.md');
    expect(evidence.status).toBe(200);
    expect(evidence.headers.get('content-disposition')).toContain('attachment');
    expect((await c.get('/console/people/nobody-here')).status).toBe(404);
  });

  it('shows audit verification, rejected events and alerts', async () => {
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.viewer);
    const audit = await c.get('/console/audit');
    expect(audit.html).toContain('The audit chain verifies');
    expect((await c.get('/console/rejected')).status).toBe(200);
    expect((await c.get('/console/alerts')).status).toBe(200);
    expect(audit.html).not.toContain('/ops/queues'); // the queue link is for admins
    const admin = new ConsoleClient(rt.url!);
    await admin.signIn(TOKENS.admin);
    expect((await admin.get('/console/audit')).html).toContain('href="/ops/queues"');
  });
});

describe('holds', () => {
  it('approves through the form as the signed-in person', async () => {
    await registerHeld('h-approve', 'someone-else');
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.approver);
    const inbox = await c.get('/console/holds');
    expect(inbox.html).toContain('h-approve');
    const res = await c.post('/console/holds/h-approve/approve', { _csrf: csrfOf(inbox.html) });
    expect(res.status).toBe(303);
    const action = await rt.ctx.redis.hget(`${rt.ctx.prefix}:action:h-approve`, 'approvedBy');
    expect(action).toBe('approver-1');
    expect((await c.get(res.location!)).html).toContain('Action h-approve approved.');
  });

  it('shows a self-approval and a departing approver refused in words', async () => {
    await registerHeld('h-self', 'approver-1');
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.approver);
    const page = await c.get('/console/holds/h-self');
    const res = await c.post('/console/holds/h-self/approve', { _csrf: csrfOf(page.html) });
    expect(res.status).toBe(403);
    expect(res.html).toContain('you started it yourself');

    await sendHr(rt, hrEvent({ personId: 'dep-1', type: 'contract.terminated' }));
    await eventually(async () =>
      (await rt.ctx.people.get('dep-1'))?.milestones.some((m) => m.state === 'done'),
    );
    const dep = new ConsoleClient(rt.url!);
    await dep.signIn(EXTRA.departing);
    const depPage = await dep.get('/console/holds/h-self');
    const refused = await dep.post('/console/holds/h-self/approve', { _csrf: csrfOf(depPage.html) });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('while you are leaving');
  });

  it('cancels with a reason, and asks for one', async () => {
    await registerHeld('h-cancel', 'someone-else');
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.approver);
    const page = await c.get('/console/holds/h-cancel');
    const noReason = await c.post('/console/holds/h-cancel/cancel', {
      _csrf: csrfOf(page.html),
      reason: ' ',
    });
    expect(noReason.status).toBe(400);
    const res = await c.post('/console/holds/h-cancel/cancel', {
      _csrf: csrfOf(page.html),
      reason: 'not needed',
    });
    expect(res.status).toBe(303);
    const state = await client(rt)('GET', '/v1/actions/h-cancel', undefined, bearer(TOKENS.viewer));
    expect(state.body.state).toBe('cancelled');
    expect(state.body.cancelledBy).toBe('approver-1');
  });

  it('refuses a form posted without its CSRF token, or with another session’s', async () => {
    await registerHeld('h-csrf', 'someone-else');
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.approver);
    const missing = await c.post('/console/holds/h-csrf/approve', {});
    expect(missing.status).toBe(403);
    expect(missing.html).toContain('CSRF');
    const other = new ConsoleClient(rt.url!);
    await other.signIn(EXTRA.approver2);
    const foreign = csrfOf((await other.get('/console/holds')).html);
    expect((await c.post('/console/holds/h-csrf/approve', { _csrf: foreign })).status).toBe(403);
    const login = await new ConsoleClient(rt.url!).post('/console/login', { token: TOKENS.admin });
    expect(login.status).toBe(403);
    const state = await client(rt)('GET', '/v1/actions/h-csrf', undefined, bearer(TOKENS.viewer));
    expect(state.body.state).toBe('held');
  });

  it('shows a viewer no buttons, and refuses its posts anyway', async () => {
    await registerHeld('h-viewer', 'someone-else');
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.viewer);
    const inbox = await c.get('/console/holds');
    expect(inbox.html).toContain('h-viewer');
    expect(inbox.html).not.toContain('>Approve<');
    expect(inbox.html).not.toContain('>Cancel<');
    const res = await c.post('/console/holds/h-viewer/approve', { _csrf: csrfOf(inbox.html) });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('text/html');
  });
});
