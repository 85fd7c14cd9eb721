/**
 * The guard on real Redis and real BullMQ workers: freeze of thousands of
 * pending actions (and registrations racing it), registration after freeze,
 * idempotency and validation, approval refusals, and hold expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { client, EXTRA, sendHr, settings, statusOf } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testRuntime } from '../helpers/lastday.ts';

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
    const guard = rt.ctx.guard;
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
    const guard = rt.ctx.guard;
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

  it('holds made by a freeze expire through one job per freeze batch', async () => {
    const guard = rt.ctx.guard;
    const ids = ['batch-exp-1', 'batch-exp-2', 'batch-exp-3'];
    for (const actionId of ids) {
      const answer = await guard.register(
        { actionId, initiatorId: 'batch-leaver', kind: 'k', target: 'doc:ordinary' },
        { name: 'tools' },
      );
      expect(answer.state).toBe('pending');
    }
    // The freeze hook as the milestone calls it; only the id and plan version matter to it.
    const record = { person: { id: 'batch-leaver' }, planVersion: 1 } as Parameters<typeof guard.freeze>[0];
    expect(await guard.freeze(record)).toEqual({ actions: { held: 3, cancelled: 0 } });
    await eventually(async () => {
      const all = await guard.actions.getMany(ids);
      return all.every((a) => a.state === 'cancelled');
    });
    const jobs = await rt.ctx.queues.actions.getJobs(['completed', 'delayed', 'wait', 'active']);
    const batchJobs = jobs.filter((j) => j.id?.startsWith('expire-batch.'));
    expect(batchJobs).toHaveLength(1);
    expect(batchJobs[0]!.data.actionIds).toEqual(ids);
    expect(jobs.filter((j) => ids.some((id) => j.id === `expire.${id}`))).toHaveLength(0);
  });
});
