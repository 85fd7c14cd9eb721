/**
 * A managed action's callback is called at its `executeAt`, never before
 * (contract section 4), whatever happens to its `execute` job: promoted in the
 * queue dashboard (an admin may promote), or added by hand by any BullMQ
 * client. The early run puts the job back to the instant and is audited; no
 * callback leaves. At the instant the callback is called once.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActionsProcessor } from '../../jobs/actions.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { CLOCK_TOLERANCE_MS } from '../../src/domain/duePrefix.ts';
import { redisTimeMs } from '../../src/store/clock.ts';
import { executeJobId, type ActionJobData } from '../../src/queues/actions.ts';
import { QUEUES } from '../../src/queues/names.ts';
import { type CallbackServer, startCallbackServer } from '../helpers/callbackServer.ts';
import { client, registerAction, settings } from '../helpers/guard.ts';
import { ACTION_SECRET, bearer, eventually, TOKENS, testRuntime } from '../helpers/lastday.ts';

describe('an action execute job run before executeAt', () => {
  let rt: Runtime;
  let cb: CallbackServer;
  let connection: Redis;
  let outside: Queue<ActionJobData>;
  const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

  beforeAll(async () => {
    cb = await startCallbackServer(ACTION_SECRET);
    rt = await testRuntime(settings());
    // What bull-board or any BullMQ client holds: the actions queue, on its own connection.
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    outside = new Queue<ActionJobData>(QUEUES.actions, { connection, prefix: rt.ctx.prefix });
  });
  afterAll(async () => {
    await outside?.close();
    connection?.disconnect();
    await rt?.stop();
    await cb?.close();
  });

  const state = async (id: string) =>
    (await client(rt)('GET', `/v1/actions/${encodeURIComponent(id)}`, undefined, bearer(TOKENS.viewer))).body
      .state;
  const auditTypes = async (id: string) => (await rt.ctx.audit.list({ actionId: id })).map((e) => e.type);

  it('promoted: goes back to executeAt, audited, no callback', async () => {
    const executeAt = inMs(3_600_000);
    const reg = await registerAction(rt, 'promoted-1', { executeAt, callbackUrl: `${cb.url}/promoted-1` });
    expect(reg.body.state).toBe('pending');
    const job = await outside.getJob(executeJobId('promoted-1', 'scheduled'));
    expect(await job?.getState()).toBe('delayed');
    await job!.promote();
    await eventually(async () => (await auditTypes('promoted-1')).includes('action.early_run'));
    await eventually(async () => (await job!.getState()) === 'delayed');
    expect(cb.callsTo('/promoted-1')).toHaveLength(0);
    expect(await state('promoted-1')).toBe('pending');
    const early = (await rt.ctx.audit.list({ actionId: 'promoted-1' })).find(
      (e) => e.type === 'action.early_run',
    );
    expect(early?.details).toMatchObject({ executeAt });
  });

  it('added by hand with a job id of its own: goes back too, no callback', async () => {
    const executeAt = inMs(3_600_000);
    await registerAction(rt, 'forged-1', { executeAt, callbackUrl: `${cb.url}/forged-1` });
    const forged = await outside.add('execute', { actionId: 'forged-1' }, { jobId: 'forged-exec-1' });
    await eventually(async () => (await auditTypes('forged-1')).includes('action.early_run'));
    await eventually(async () => (await forged.getState()) === 'delayed');
    expect(cb.callsTo('/forged-1')).toHaveLength(0);
    expect(await state('forged-1')).toBe('pending');
  });

  it('a job under another name is not an execute job: it calls nothing', async () => {
    await registerAction(rt, 'named-1', { executeAt: inMs(3_600_000), callbackUrl: `${cb.url}/named-1` });
    const odd = await outside.add('run-now' as 'execute', { actionId: 'named-1' }, { jobId: 'odd-name-1' });
    await eventually(async () => ['failed', 'completed'].includes(await odd.getState()));
    expect(cb.callsTo('/named-1')).toHaveLength(0);
    expect(await state('named-1')).toBe('pending');
  });

  it('at its instant the callback is called, once', async () => {
    await registerAction(rt, 'on-time-1', { executeAt: inMs(300), callbackUrl: `${cb.url}/on-time-1` });
    await eventually(async () => (await state('on-time-1')) === 'executed');
    expect(cb.callsTo('/on-time-1')).toHaveLength(1);
    expect(await auditTypes('on-time-1')).not.toContain('action.early_run');
  });
});

describe('an action execute job on a worker whose clock runs ahead', () => {
  let rt: Runtime;
  let cb: CallbackServer;
  let connection: Redis;
  let worker: Worker | undefined;

  beforeAll(async () => {
    cb = await startCallbackServer(ACTION_SECRET);
    // API only: the one worker is the test's, with its clock 1.5 s ahead of Redis's.
    rt = await testRuntime(settings(), { roles: ['api'] });
    connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await worker?.close();
    connection?.disconnect();
    await rt?.stop();
    await cb?.close();
  });

  it('decides on the Redis clock too: promoted 1.2 s ahead, it goes back and calls no sooner than the tolerance allows', async () => {
    const executeAtMs = Date.now() + 1_200;
    const executeAt = new Date(executeAtMs).toISOString();
    await registerAction(rt, 'skewed-1', { executeAt, callbackUrl: `${cb.url}/skewed-1` });
    const queue = new Queue<ActionJobData>(QUEUES.actions, { connection, prefix: rt.ctx.prefix });
    const job = await queue.getJob(executeJobId('skewed-1', 'scheduled'));
    await job!.promote();
    let calledAtMs: number | undefined;
    const ports = {
      ...rt.ctx,
      now: () => new Date(Date.now() + 1_500),
      referenceNowMs: () => redisTimeMs(rt.ctx.redis),
      actionSecret: ACTION_SECRET,
    };
    const execute = createActionsProcessor(ports);
    worker = new Worker(
      QUEUES.actions,
      async (j, token) => {
        const result = await execute(j, token);
        calledAtMs ??= cb.callsTo('/skewed-1').length > 0 ? Date.now() : undefined;
        return result;
      },
      { connection: connection.duplicate(), prefix: rt.ctx.prefix },
    );
    // By its own clock the job is due at once; by Redis's (plus the tolerance) it is 200 ms early.
    const early = await eventually(async () =>
      (await rt.ctx.audit.list({ actionId: 'skewed-1' })).find((e) => e.type === 'action.early_run'),
    );
    expect(early.details).toHaveProperty('redisNow');
    await eventually(async () => calledAtMs !== undefined);
    expect(cb.callsTo('/skewed-1')).toHaveLength(1);
    expect(calledAtMs!).toBeGreaterThanOrEqual(executeAtMs - CLOCK_TOLERANCE_MS);
    await queue.close();
  });
});
