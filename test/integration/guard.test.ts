/**
 * The guard on real Redis and real BullMQ workers: freeze of thousands of
 * pending actions, registration after freeze, approval refusals, hold expiry,
 * and managed execution against a real local HTTP callback server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { sha256Hex } from '../../src/http/auth.ts';
import { executeAction } from '../../src/guard/execute.ts';
import { guardExtension } from '../../src/guard/extension.ts';
import { guardFor } from '../../src/guard/instances.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { type CallbackServer, startCallbackServer } from '../helpers/callbackServer.ts';
import {
  ACTION_SECRET,
  bearer,
  eventually,
  signedHeaders,
  TOKENS,
  testRuntime,
  testSettings,
} from '../helpers/lastday.ts';

const EXTRA = {
  approver2: 'approver-2-token',
  departing: 'departing-approver-token',
  nobody: 'approver-without-person-token',
} as const;

const tokens = [
  { name: 'viewer', role: 'viewer', sha256: sha256Hex(TOKENS.viewer) },
  { name: 'approver', role: 'approver', personId: 'approver-1', sha256: sha256Hex(TOKENS.approver) },
  { name: 'approver-2', role: 'approver', personId: 'approver-2', sha256: sha256Hex(EXTRA.approver2) },
  { name: 'departing', role: 'approver', personId: 'dep-1', sha256: sha256Hex(EXTRA.departing) },
  { name: 'no-person', role: 'approver', sha256: sha256Hex(EXTRA.nobody) },
  { name: 'admin', role: 'admin', personId: 'admin-1', sha256: sha256Hex(TOKENS.admin) },
  { name: 'system', role: 'system', sha256: sha256Hex(TOKENS.system) },
];

function settings(policy: Record<string, unknown> = {}) {
  return testSettings({
    auth: { tokens },
    protectedTargets: ['account:@vip-*'],
    policy: { cancelOnFreeze: ['data.delete*'], ...policy },
  });
}

function client(rt: Runtime) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${rt.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

async function sendHr(rt: Runtime, event: Record<string, unknown>) {
  const body = JSON.stringify(event);
  const res = await fetch(`${rt.url}/v1/hr-events`, { method: 'POST', headers: signedHeaders(body), body });
  expect(res.status).toBe(202);
}

async function statusOf(rt: Runtime, personId: string) {
  const res = await client(rt)(
    'GET',
    `/v1/people/${encodeURIComponent(personId)}`,
    undefined,
    bearer(TOKENS.viewer),
  );
  return res.body?.status as string | undefined;
}

describe('guard on the real timeline', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  const system = bearer(TOKENS.system);

  beforeAll(async () => {
    rt = await testRuntime(settings());
    api = client(rt);
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('freeze holds every one of 2,100 pending actions (and cancels cancelOnFreeze kinds), touching nobody else', async () => {
    const guard = guardFor(rt.ctx);
    const leaver = 'leaver/with:odd id';
    const other = 'bystander';
    const ids: string[] = [];
    for (let chunk = 0; chunk < 21; chunk++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const n = chunk * 100 + i;
          const actionId = `bulk:${n}`;
          ids.push(actionId);
          const answer = await guard.register(
            {
              actionId,
              initiatorId: leaver,
              kind: n % 10 === 0 ? 'data.delete' : 'account.deactivate',
              target: `account:${n}`,
            },
            { name: 'system' },
          );
          expect(answer.state).toBe('pending');
        }),
      );
    }
    for (let i = 0; i < 30; i++) {
      await guard.register(
        { actionId: `other-${i}`, initiatorId: other, kind: 'data.delete', target: `account:o${i}` },
        { name: 'system' },
      );
    }

    await sendHr(
      rt,
      hrEvent({
        personId: leaver,
        type: 'contract.terminated',
        effectiveAt: new Date().toISOString(),
      }),
    );
    await eventually(async () => (await statusOf(rt, leaver)) === 'revoked', 20_000);

    const all = await guard.actions.getMany(ids);
    expect(all).toHaveLength(2100);
    const held = all.filter((a) => a.state === 'held');
    const cancelled = all.filter((a) => a.state === 'cancelled');
    expect(held).toHaveLength(1890);
    expect(cancelled).toHaveLength(210);
    expect(cancelled.every((a) => a.kind === 'data.delete')).toBe(true);
    expect(all.filter((a) => a.state === 'pending')).toHaveLength(0);

    const others = await guard.actions.getMany(Array.from({ length: 30 }, (_, i) => `other-${i}`));
    expect(others.map((a) => a.state)).toEqual(Array(30).fill('pending'));

    // The freeze is in the milestone's audit entry with its counts, and per action.
    const audit = await api(
      'GET',
      `/v1/audit?personId=${encodeURIComponent(leaver)}&limit=5000`,
      undefined,
      bearer(TOKENS.viewer),
    );
    const done = audit.body.entries.find(
      (e: { type: string; details: { milestone?: string } }) =>
        e.type === 'milestone.done' && e.details.milestone === 'freeze',
    );
    expect(done.details.actions).toEqual({ held: 1890, cancelled: 210 });
    const one = await api(
      'GET',
      `/v1/audit?actionId=${encodeURIComponent('bulk:7')}`,
      undefined,
      bearer(TOKENS.viewer),
    );
    expect(one.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'action.registered',
      'actions.frozen',
    ]);
    expect(one.body.entries[1].details.held).toContain('bulk:7');

    // Registration after the freeze: held at once. The gate holds too.
    const late = await api(
      'POST',
      '/v1/actions',
      { actionId: 'late-1', initiatorId: leaver, kind: 'account.deactivate', target: 'account:x' },
      system,
    );
    expect(late.status).toBe(201);
    expect(late.body.state).toBe('held');
    expect(late.body.reason).toMatch(/is (frozen|revoked)/);
    const gate = await api('POST', '/v1/actions/late-1/gate', undefined, system);
    expect(gate.body).toMatchObject({ decision: 'hold', state: 'held' });

    // An approved action of the leaver runs anyway: a second person decided.
    const approved = await api('POST', '/v1/actions/late-1/approve', undefined, bearer(TOKENS.approver));
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe('approved');
    expect((await api('POST', '/v1/actions/late-1/gate', undefined, system)).body.decision).toBe('allow');

    const verify = await api('GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer));
    expect(verify.body.ok).toBe(true);
  });

  it('misses none of the registrations racing a freeze', async () => {
    const guard = guardFor(rt.ctx);
    const personId = 'racer';
    await sendHr(rt, hrEvent({ personId, lastDay: '2030-06-28' }));
    const record = await eventually(async () => rt.ctx.people.get(personId));
    const register = (n: number) =>
      guard.register(
        { actionId: `race:${n}`, initiatorId: personId, kind: 'k', target: `t:${n}` },
        { name: 'system' },
      );
    await Promise.all(Array.from({ length: 600 }, (_, n) => register(n)));
    // The freeze and 400 more registrations at once.
    const [frozen, answers] = await Promise.all([
      guard.freeze(record),
      Promise.all(Array.from({ length: 400 }, (_, n) => register(600 + n))),
    ]);
    const all = await guard.actions.getMany(Array.from({ length: 1000 }, (_, n) => `race:${n}`));
    expect(all.filter((a) => a.state !== 'held')).toEqual([]);
    expect(frozen.actions.held + answers.filter((a) => a.state === 'held').length).toBeGreaterThanOrEqual(
      1000,
    );
    expect(await rt.ctx.redis.zcard(rt.ctx.keys.actionsPendingOf(personId))).toBe(0);
    // Between the hook and the milestone being saved as done, the person already counts as frozen.
    expect((await register(1000)).state).toBe('held');
    // A second run (a retried milestone job) changes nothing.
    expect(await guard.freeze(record)).toEqual({ actions: { held: 0, cancelled: 0 } });
  });

  it('registers idempotently, refuses a changed body, validates, and gates pending actions', async () => {
    const body = {
      actionId: 'idem-1',
      initiatorId: 'active-1',
      kind: 'repo.delete',
      target: 'repo:x',
      payload: { a: 1 },
    };
    const first = await api('POST', '/v1/actions', body, system);
    expect(first).toEqual({
      status: 201,
      body: { actionId: 'idem-1', state: 'pending', reason: expect.any(String) },
    });
    expect(await api('POST', '/v1/actions', { ...body }, system)).toEqual(first);
    const changed = await api('POST', '/v1/actions', { ...body, target: 'repo:y' }, system);
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('conflict');

    const invalid = await api('POST', '/v1/actions', { actionId: '', kind: 'x' }, system);
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('invalid_request');
    const huge = await api(
      'POST',
      '/v1/actions',
      { ...body, actionId: 'huge', payload: 'x'.repeat(70_000) },
      system,
    );
    expect(huge.status).toBe(400);
    expect(huge.body.error.issues[0].path).toBe('payload');
    expect((await api('POST', '/v1/actions', body, bearer(TOKENS.admin))).status).toBe(403);
    expect((await api('POST', '/v1/actions', body)).status).toBe(401);

    const gate = await api('POST', '/v1/actions/idem-1/gate', undefined, system);
    expect(gate.body).toEqual({ decision: 'allow', state: 'pending', reason: expect.any(String) });
    expect((await api('POST', '/v1/actions/nope/gate', undefined, system)).status).toBe(404);

    const got = await api('GET', '/v1/actions/idem-1', undefined, bearer(TOKENS.viewer));
    expect(got.body).toMatchObject({ actionId: 'idem-1', state: 'pending', payload: { a: 1 } });
  });

  it('holds protected targets until a second, eligible person approves', async () => {
    const reg = await api(
      'POST',
      '/v1/actions',
      {
        actionId: 'vip-1',
        initiatorId: 'approver-1',
        kind: 'account.deactivate',
        target: 'account:@vip-head-of-state',
      },
      system,
    );
    expect(reg.body.state).toBe('held');
    expect(reg.body.reason).toMatch(/protected/);

    const self = await api(
      'POST',
      '/v1/actions/vip-1/approve',
      { approverId: 'someone-else' },
      bearer(TOKENS.approver),
    );
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('self_approval');

    const noPerson = await api('POST', '/v1/actions/vip-1/approve', undefined, bearer(EXTRA.nobody));
    expect(noPerson.status).toBe(403);
    expect(noPerson.body.error.code).toBe('forbidden');
    expect((await api('POST', '/v1/actions/vip-1/approve', undefined, bearer(TOKENS.viewer))).status).toBe(
      403,
    );

    // dep-1's own offboarding reached `reduce`: their approval is refused.
    const soon = endingSoon(20 * 3600, 'Pacific/Kiritimati');
    await sendHr(
      rt,
      hrEvent({ personId: 'dep-1', lastDay: soon.lastDay, endTime: soon.endTime, timezone: soon.timezone }),
    );
    await eventually(async () => ['reduced', 'frozen'].includes((await statusOf(rt, 'dep-1')) ?? ''), 15_000);
    const departing = await api('POST', '/v1/actions/vip-1/approve', undefined, bearer(EXTRA.departing));
    expect(departing.status).toBe(403);
    expect(departing.body.error.code).toBe('approver_departing');

    const holds = await api('GET', '/v1/holds?limit=10000', undefined, bearer(TOKENS.viewer));
    expect(holds.body.holds.map((h: { actionId: string }) => h.actionId)).toContain('vip-1');
    expect(holds.body.count).toBe(holds.body.holds.length);

    expect((await api('POST', '/v1/actions/vip-1/gate', undefined, system)).body.decision).toBe('hold');
    const ok = await api('POST', '/v1/actions/vip-1/approve', undefined, bearer(EXTRA.approver2));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ state: 'approved', approvedBy: 'approver-2' });
    expect((await api('POST', '/v1/actions/vip-1/gate', undefined, system)).body.decision).toBe('allow');

    const cancel = await api(
      'POST',
      '/v1/actions/vip-1/cancel',
      { reason: 'changed our minds' },
      bearer(TOKENS.approver),
    );
    expect(cancel.body.state).toBe('cancelled');
    expect((await api('POST', '/v1/actions/vip-1/gate', undefined, system)).body.decision).toBe('deny');
    const late = await api('POST', '/v1/actions/vip-1/approve', undefined, bearer(EXTRA.approver2));
    expect(late.status).toBe(409);

    const audit = await api('GET', '/v1/audit?actionId=vip-1', undefined, bearer(TOKENS.viewer));
    const entries = audit.body.entries as { type: string; actor: string }[];
    expect(entries.map((e) => e.type)).toEqual([
      'action.registered',
      'action.approved',
      'action.allowed',
      'action.cancelled',
    ]);
    expect(entries.find((e) => e.type === 'action.approved')?.actor).toBe('approver-2');
    expect(entries.find((e) => e.type === 'action.cancelled')?.actor).toBe('approver-1');
  });
});

describe('hold expiry', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await testRuntime(settings({ holdExpiryHours: 0.0005 }));
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('cancels a hold nobody decided in time, and leaves a decided one alone', async () => {
    const api = client(rt);
    const system = bearer(TOKENS.system);
    const target = 'account:@vip-expiring';
    await api('POST', '/v1/actions', { actionId: 'exp-1', initiatorId: 'p1', kind: 'k', target }, system);
    await api('POST', '/v1/actions', { actionId: 'exp-2', initiatorId: 'p1', kind: 'k', target }, system);
    await api('POST', '/v1/actions/exp-2/approve', undefined, bearer(TOKENS.approver));
    const expired = await eventually(async () => {
      const a = await api('GET', '/v1/actions/exp-1', undefined, bearer(TOKENS.viewer));
      return a.body.state === 'cancelled' ? a.body : undefined;
    });
    expect(expired).toMatchObject({ cancelledBy: 'lastday', reason: expect.stringMatching(/not decided/) });
    expect((await api('GET', '/v1/actions/exp-2', undefined, bearer(TOKENS.viewer))).body.state).toBe(
      'approved',
    );
    const audit = await api('GET', '/v1/audit?actionId=exp-1', undefined, bearer(TOKENS.viewer));
    expect(audit.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'action.registered',
      'action.expired',
    ]);
  });
});

describe('managed execution', () => {
  let rt: Runtime;
  let cb: CallbackServer;
  let api: ReturnType<typeof client>;
  const system = bearer(TOKENS.system);
  const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

  beforeAll(async () => {
    cb = await startCallbackServer(ACTION_SECRET);
    rt = await testRuntime(settings(), { extensions: [guardExtension({ callbackRetryBaseMs: 50 })] });
    api = client(rt);
  });
  afterAll(async () => {
    await rt?.stop();
    await cb?.close();
  });

  const state = async (id: string) =>
    (await api('GET', `/v1/actions/${encodeURIComponent(id)}`, undefined, bearer(TOKENS.viewer))).body.state;

  it('calls an allowed action once, signed, and never again', async () => {
    const reg = await api(
      'POST',
      '/v1/actions',
      {
        actionId: 'run-1',
        initiatorId: 'p-active',
        kind: 'account.deactivate',
        target: 'account:1',
        executeAt: inMs(200),
        callbackUrl: `${cb.url}/run-1`,
        payload: { why: 'test' },
      },
      system,
    );
    expect(reg.body.state).toBe('pending');
    await eventually(async () => (await state('run-1')) === 'executed');
    const calls = cb.callsTo('/run-1');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      signatureOk: true,
      webhookId: 'run-1',
      body: { actionId: 'run-1', kind: 'account.deactivate', target: 'account:1', payload: { why: 'test' } },
    });

    // The job run twice (and concurrently): no second call.
    const guard = guardFor(rt.ctx);
    const again = await Promise.all([
      executeAction(rt.ctx, guard, 'run-1', 2),
      executeAction(rt.ctx, guard, 'run-1', 3),
    ]);
    expect(again.map((r) => r.outcome)).toEqual(['executed_already', 'executed_already']);
    expect(cb.callsTo('/run-1')).toHaveLength(1);
    expect((await api('POST', '/v1/actions/run-1/gate', undefined, system)).body.decision).toBe('deny');
  });

  it('two executors at the same instant call once', async () => {
    await api(
      'POST',
      '/v1/actions',
      {
        actionId: 'race-1',
        initiatorId: 'p-active',
        kind: 'k',
        target: 't:race',
        executeAt: inMs(3_600_000),
        callbackUrl: `${cb.url}/race-1`,
      },
      system,
    );
    const guard = guardFor(rt.ctx);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => executeAction(rt.ctx, guard, 'race-1', i + 1)),
    );
    expect(cb.callsTo('/race-1')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'executed')).toHaveLength(1);
    expect(await state('race-1')).toBe('executed');
  });

  it('retries on 5xx with backoff until one success', async () => {
    cb.script('/flaky-1', [503, 500]);
    await api(
      'POST',
      '/v1/actions',
      {
        actionId: 'flaky-1',
        initiatorId: 'p-active',
        kind: 'k',
        target: 't:flaky',
        executeAt: inMs(0),
        callbackUrl: `${cb.url}/flaky-1`,
      },
      system,
    );
    await eventually(async () => (await state('flaky-1')) === 'executed');
    expect(cb.callsTo('/flaky-1').map((c) => c.status)).toEqual([503, 500, 200]);
    expect(cb.callsTo('/flaky-1').every((c) => c.signatureOk && c.webhookId === 'flaky-1')).toBe(true);
  });

  it('never calls a held action; approval after executeAt runs it at once', async () => {
    await api(
      'POST',
      '/v1/actions',
      {
        actionId: 'held-1',
        initiatorId: 'p-active',
        kind: 'account.deactivate',
        target: 'account:@vip-1',
        executeAt: inMs(100),
        callbackUrl: `${cb.url}/held-1`,
      },
      system,
    );
    // The scheduled run found it held and completed without calling.
    await eventually(async () => {
      const job = await guardFor(rt.ctx).queue.getJob('exec.held-1');
      return (await job?.getState()) === 'completed';
    });
    expect(cb.callsTo('/held-1')).toHaveLength(0);
    expect(await state('held-1')).toBe('held');

    await api('POST', '/v1/actions/held-1/approve', undefined, bearer(EXTRA.approver2));
    await eventually(async () => (await state('held-1')) === 'executed');
    expect(cb.callsTo('/held-1')).toHaveLength(1);
  });

  it('a pending action whose initiator is frozen by executeAt is held, not called', async () => {
    const personId = 'freezes-before-run';
    await api(
      'POST',
      '/v1/actions',
      {
        actionId: 'fz-1',
        initiatorId: personId,
        kind: 'account.deactivate',
        target: 'account:9',
        executeAt: inMs(1_500),
        callbackUrl: `${cb.url}/fz-1`,
      },
      system,
    );
    await sendHr(rt, hrEvent({ personId, type: 'contract.terminated', effectiveAt: inMs(0) }));
    await eventually(async () => (await state('fz-1')) === 'held');
    await eventually(async () => {
      const job = await guardFor(rt.ctx).queue.getJob('exec.fz-1');
      return (await job?.getState()) === 'completed';
    });
    expect(cb.callsTo('/fz-1')).toHaveLength(0);
  });

  it('refuses a callbackUrl outside callbackAllowlist', async () => {
    const strict = await testRuntime(
      testSettings({ auth: { tokens }, callbackAllowlist: ['https://*.corp.example'] }),
      { roles: ['api'] },
    );
    try {
      const call = client(strict);
      const outside = await call(
        'POST',
        '/v1/actions',
        { actionId: 'cb-1', initiatorId: 'p', kind: 'k', target: 't', callbackUrl: 'http://127.0.0.1:9/x' },
        system,
      );
      expect(outside.status).toBe(400);
      expect(outside.body.error.code).toBe('invalid_request');
      const inside = await call(
        'POST',
        '/v1/actions',
        {
          actionId: 'cb-2',
          initiatorId: 'p',
          kind: 'k',
          target: 't',
          executeAt: inMs(3_600_000),
          callbackUrl: 'https://tools.corp.example/hook',
        },
        system,
      );
      expect(inside.status).toBe(201);
    } finally {
      await strict.stop();
    }
  });
});
