/**
 * Managed execution on real Redis and BullMQ, against a real local HTTP
 * callback server that counts calls and checks signatures: exactly one call on
 * success, none while held, retries on 5xx, a job run twice (and at once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { executeAction } from '../../jobs/actions.ts';
import { type CallbackServer, startCallbackServer } from '../helpers/callbackServer.ts';
import { hrEvent } from '../helpers/events.ts';
import { client, EXTRA, registerAction, sendHr, settings, tokens } from '../helpers/guard.ts';
import { ACTION_SECRET, bearer, eventually, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

describe('managed execution', () => {
  let rt: Runtime;
  let cb: CallbackServer;
  let api: ReturnType<typeof client>;
  const system = bearer(TOKENS.system);
  const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

  beforeAll(async () => {
    cb = await startCallbackServer(ACTION_SECRET);
    rt = await testRuntime(settings(), { workers: { callbackRetryBaseMs: 50 } });
    api = client(rt);
  });
  afterAll(async () => {
    await rt?.stop();
    await cb?.close();
  });

  const execPorts = () => ({ ...rt.ctx, actionSecret: ACTION_SECRET });
  const state = async (id: string) =>
    (await api('GET', `/v1/actions/${encodeURIComponent(id)}`, undefined, bearer(TOKENS.viewer))).body.state;
  /**
   * Registers a managed action calling back `<cb>/<actionId>`, by default an
   * hour ahead: only a test's direct runs call it. A test names what matters to it.
   */
  const register = (actionId: string, body: Record<string, unknown> = {}) =>
    registerAction(rt, actionId, {
      executeAt: inMs(3_600_000),
      callbackUrl: `${cb.url}/${actionId}`,
      ...body,
    });

  it('calls an allowed action once, signed, and never again', async () => {
    const reg = await register('run-1', {
      target: 'account:1',
      executeAt: inMs(200),
      payload: { why: 'test' },
    });
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
    const again = await Promise.all([
      executeAction(execPorts(), 'run-1', 2),
      executeAction(execPorts(), 'run-1', 3),
    ]);
    expect(again.map((r) => r.outcome)).toEqual(['executed_already', 'executed_already']);
    expect(cb.callsTo('/run-1')).toHaveLength(1);
    expect((await api('POST', '/v1/actions/run-1/gate', undefined, system)).body.decision).toBe('deny');
  });

  it('two executors at the same instant call once', async () => {
    await register('race-1');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => executeAction(execPorts(), 'race-1', i + 1)),
    );
    expect(cb.callsTo('/race-1')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'executed')).toHaveLength(1);
    expect(await state('race-1')).toBe('executed');
  });

  it('retries on 5xx with backoff until one success', async () => {
    cb.script('/flaky-1', [503, 500]);
    await register('flaky-1', { executeAt: inMs(0) });
    await eventually(async () => (await state('flaky-1')) === 'executed');
    expect(cb.callsTo('/flaky-1').map((c) => c.status)).toEqual([503, 500, 200]);
    expect(cb.callsTo('/flaky-1').every((c) => c.signatureOk && c.webhookId === 'flaky-1')).toBe(true);
  });

  it('never calls a held action; approval after executeAt runs it at once', async () => {
    await register('held-1', { target: 'account:@vip-1', executeAt: inMs(100) });
    // The scheduled run found it held and completed without calling.
    await eventually(async () => {
      const job = await rt.ctx.guard.queue.getJob('exec.held-1');
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
    await register('fz-1', { initiatorId: personId, executeAt: inMs(1_500) });
    await sendHr(rt, hrEvent({ personId, type: 'contract.terminated', effectiveAt: inMs(0) }));
    await eventually(async () => (await state('fz-1')) === 'held');
    await eventually(async () => {
      const job = await rt.ctx.guard.queue.getJob('exec.fz-1');
      return (await job?.getState()) === 'completed';
    });
    expect(cb.callsTo('/fz-1')).toHaveLength(0);
  });

  it('a callback that answers 2xx after a cancel leaves the action cancelled, audited and alerted', async () => {
    await register('late-2xx');
    const release = cb.hold('/late-2xx');
    const run = executeAction(execPorts(), 'late-2xx', 1);
    await cb.received('/late-2xx');
    const cancel = await api(
      'POST',
      '/v1/actions/late-2xx/cancel',
      { reason: 'changed my mind' },
      bearer(TOKENS.approver),
    );
    expect(cancel.body.state).toBe('cancelled');
    release();
    expect(await run).toEqual({ outcome: 'executed_after_cancel', status: 200 });
    expect(await state('late-2xx')).toBe('cancelled');
    const types = (await rt.ctx.audit.list({ actionId: 'late-2xx' })).map((e) => e.type);
    expect(types).toContain('action.executed_after_cancel');
    expect(types).toContain('alert.action_executed_after_cancel');
    expect(types).not.toContain('action.executed');
  });

  // At most once (contract section 4): a call whose outcome lastday never
  // learnt is not made again by lastday; a person decides.
  const auditTypes = async (id: string) => (await rt.ctx.audit.list({ actionId: id })).map((e) => e.type);

  it('a peer that drops the connection after receiving the call: held, alerted, not called again', async () => {
    await register('drop-1');
    cb.script('/drop-1', [0]);
    const first = await executeAction(execPorts(), 'drop-1', 1);
    expect(first.outcome).toBe('held');
    expect(cb.callsTo('/drop-1')).toHaveLength(1);
    const view = (await api('GET', '/v1/actions/drop-1', undefined, bearer(TOKENS.viewer))).body;
    expect(view).toMatchObject({ state: 'held' });
    expect(view.reason).toMatch(/^callback outcome unknown: .*after the request was sent/);
    expect(view.expiresAt).toBeDefined();
    expect(await auditTypes('drop-1')).toEqual(
      expect.arrayContaining(['action.callback_outcome_unknown', 'alert.action_callback_outcome_unknown']),
    );
    // A retry of the job (or any later run) calls nothing while it is held.
    expect((await executeAction(execPorts(), 'drop-1', 2)).outcome).toBe('held');
    expect(cb.callsTo('/drop-1')).toHaveLength(1);
    expect((await api('POST', '/v1/actions/drop-1/gate', undefined, system)).body.decision).toBe('hold');
    // An approver who checked the far side lets it run again (its instant is an
    // hour ahead: the run is made directly here), and it is called once more.
    await api('POST', '/v1/actions/drop-1/approve', undefined, bearer(EXTRA.approver2));
    expect(await state('drop-1')).toBe('approved');
    expect((await executeAction(execPorts(), 'drop-1', 3)).outcome).toBe('executed');
    expect(cb.callsTo('/drop-1')).toHaveLength(2);
    expect((await rt.ctx.guard.actions.get('drop-1'))?.callStartedAt).toBeUndefined();
  });

  it('an executor killed mid-call: the next run does not call again', async () => {
    await register('killed-1');
    // What a killed executor leaves: the mark written before its request went out.
    const before = await rt.ctx.guard.actions.get('killed-1');
    expect(before?.callStartedAt).toBeUndefined();
    expect(await rt.ctx.guard.actions.markCallStarted('killed-1', 'pending', new Date().toISOString())).toBe(
      true,
    );
    const run = await executeAction(execPorts(), 'killed-1', 2);
    expect(run).toMatchObject({ outcome: 'held' });
    expect(cb.callsTo('/killed-1')).toHaveLength(0);
    expect(await state('killed-1')).toBe('held');
    const after = await rt.ctx.guard.actions.get('killed-1');
    expect(after?.callStartedAt).toBeUndefined();
    expect(after?.reason).toMatch(/an earlier attempt .* ended without recording its answer/);
  });

  it('an approved action whose call is lost goes back to held, and a cancel ends it', async () => {
    // Protected: it runs only once approved.
    await register('lost-approved', { target: 'account:@vip-lost' });
    await api('POST', '/v1/actions/lost-approved/approve', undefined, bearer(EXTRA.approver2));
    expect(await state('lost-approved')).toBe('approved');
    cb.script('/lost-approved', [0]);
    expect((await executeAction(execPorts(), 'lost-approved', 1)).outcome).toBe('held');
    expect(await state('lost-approved')).toBe('held');
    await api('POST', '/v1/actions/lost-approved/cancel', { reason: 'it did run' }, bearer(TOKENS.approver));
    expect(await state('lost-approved')).toBe('cancelled');
    expect((await executeAction(execPorts(), 'lost-approved', 2)).outcome).toBe('cancelled');
    expect(cb.callsTo('/lost-approved')).toHaveLength(1);
  });

  it('a call that never left (connection refused) is retried, and succeeds once', async () => {
    // A free port with nothing listening yet.
    const spare = await startCallbackServer(ACTION_SECRET);
    const url = spare.url;
    await spare.close();
    await register('refused-1', { callbackUrl: `${url}/refused-1` });
    await expect(executeAction(execPorts(), 'refused-1', 1)).rejects.toThrow(/ECONNREFUSED/);
    const mid = await rt.ctx.guard.actions.get('refused-1');
    expect(mid).toMatchObject({ state: 'pending' });
    expect(mid?.callStartedAt).toBeUndefined();
    const { port } = new URL(url);
    const back = await startCallbackServer(ACTION_SECRET, Number(port));
    try {
      expect((await executeAction(execPorts(), 'refused-1', 2)).outcome).toBe('executed');
      expect(back.callsTo('/refused-1')).toHaveLength(1);
    } finally {
      await back.close();
    }
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
