/**
 * Retention on real Redis, BullMQ and a real callback server: executed and
 * cancelled actions and rejected HR events past `retention.*Days` are deleted
 * by the `retention` task (what the cron runs), in batches, with every key and
 * index entry they had; pending and held actions and younger records stay;
 * each run appends one audit entry naming its counts, the chain still
 * verifies, and the audit entries about deleted actions are kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOpsTask } from '../../jobs/ops/tasks.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { parseConfig } from '../../src/config/load.ts';
import { enabledCrons } from '../../src/queues/crons.ts';
import { type CallbackServer, startCallbackServer } from '../helpers/callbackServer.ts';
import { client, settings as guardSettings } from '../helpers/guard.ts';
import { postEvent } from '../helpers/http.ts';
import { ACTION_SECRET, bearer, eventually, TOKENS, testRuntime } from '../helpers/lastday.ts';

const DAY_MS = 86_400_000;
let skewMs = 0;
let rt: Runtime;
let cb: CallbackServer;
let api: ReturnType<typeof client>;
const system = bearer(TOKENS.system);
const viewer = bearer(TOKENS.viewer);

beforeAll(async () => {
  cb = await startCallbackServer(ACTION_SECRET);
  const settings = guardSettings();
  settings.config.retention = { actionsDays: 90, rejectedDays: 30, batchSize: 2 };
  // The context's clock runs with real time plus a skew the test moves (BullMQ keeps real time).
  rt = await testRuntime(settings, { now: () => new Date(Date.now() + skewMs) });
  api = client(rt);
});
afterAll(async () => {
  await rt?.stop();
  await cb?.close();
});

async function register(actionId: string, extra: Record<string, unknown> = {}) {
  const res = await api(
    'POST',
    '/v1/actions',
    { actionId, initiatorId: 'tool-user', kind: 'data.export', target: `t:${actionId}`, ...extra },
    system,
  );
  expect(res.status).toBe(201);
  return res.body.state as string;
}

async function cancelled(actionId: string) {
  await register(actionId);
  expect((await api('POST', `/v1/actions/${actionId}/cancel`, {}, bearer(TOKENS.approver))).status).toBe(200);
}

const stateOf = async (id: string) => {
  const res = await api('GET', `/v1/actions/${encodeURIComponent(id)}`, undefined, viewer);
  return res.status === 404 ? 'gone' : (res.body.state as string);
};

describe('retention', () => {
  it('is a cron enabled by default, daily', () => {
    expect(enabledCrons(parseConfig({}).crons)).toContainEqual({
      name: 'retention',
      task: 'retention',
      pattern: '17 3 * * *',
      tz: 'UTC',
    });
    expect(parseConfig({}).retention).toEqual({ actionsDays: 90, rejectedDays: 90, batchSize: 500 });
  });

  it('deletes finished actions and rejected events past retention, in batches, and audits each run', async () => {
    const ctx = rt.ctx;
    // Old records, made now.
    expect(
      await register('old-exec', { executeAt: new Date().toISOString(), callbackUrl: `${cb.url}/x` }),
    ).toBe('pending');
    await eventually(async () => (await stateOf('old-exec')) === 'executed');
    for (const id of ['old-c1', 'old-c2', 'old-c3', 'old-c4', 'old-c5']) await cancelled(id);
    expect(await register('old-pending')).toBe('pending');
    expect(await register('old-held', { target: 'account:@vip-1' })).toBe('held');
    const bad = await postEvent(rt.url!, { eventId: 'bad-old', type: 'contract.ending' });
    expect(bad.status).toBe(400);
    // An index entry whose action hash was deleted by hand, and one that disagrees with its hash.
    await ctx.redis.zadd(ctx.keys.actionsByState('cancelled'), Date.now() - 1000, 'orphan');
    await ctx.redis.zadd(ctx.keys.actionsByState('cancelled'), Date.now() - 500, 'old-pending');

    // 91 days later: one more of each, young.
    skewMs = 91 * DAY_MS;
    await cancelled('young-c');
    await ctx.queues.hrEvents.add('contract.ending', { eventId: 'bad-young' });
    await eventually(async () => (await ctx.events.listRejected()).some((r) => r.eventId === 'bad-young'));
    const auditBefore = await ctx.audit.head();

    const result = await runOpsTask(ctx, 'retention');
    expect(result).toMatchObject({
      actions: { executed: 1, cancelled: 5 },
      orphans: 1,
      rejected: 1,
    });
    expect(Date.parse(result.actionsBefore as string)).toBeGreaterThan(Date.now());
    for (const id of ['old-exec', 'old-c1', 'old-c3', 'old-c5']) expect(await stateOf(id)).toBe('gone');
    expect(await stateOf('young-c')).toBe('cancelled');
    expect(await stateOf('old-pending')).toBe('pending');
    expect(await stateOf('old-held')).toBe('held');
    expect((await ctx.events.listRejected()).map((r) => r.eventId)).toEqual(['bad-young']);

    // Nothing of a deleted action is left: hash, claim, index entries.
    const k = ctx.keys;
    expect(await ctx.redis.exists(k.action('old-exec'), k.actionClaim('old-exec'))).toBe(0);
    expect(await ctx.redis.zscore(k.actionsByState('executed'), 'old-exec')).toBeNull();
    expect(await ctx.redis.zscore(k.actionsByState('cancelled'), 'orphan')).toBeNull();
    expect(await ctx.redis.zrange(k.actionsByInitiator('tool-user'), 0, -1)).toEqual(
      expect.not.arrayContaining(['old-exec', 'old-c1']),
    );
    expect(await ctx.redis.zrange(k.actionsByInitiator('tool-user'), 0, -1)).toEqual(
      expect.arrayContaining(['old-pending', 'old-held', 'young-c']),
    );
    // The index entry that disagrees with its action is left for a person to look at.
    expect(await ctx.redis.zscore(k.actionsByState('cancelled'), 'old-pending')).not.toBeNull();

    // One audit entry for the run; the chain verifies; what was said about the actions stays.
    const entries = (await api('GET', `/v1/audit?after=${auditBefore.seq}`, undefined, viewer)).body.entries;
    expect(entries.map((e: { type: string }) => e.type)).toEqual(['retention.pruned']);
    expect(entries[0].details).toMatchObject({
      actions: { executed: 1, cancelled: 5 },
      orphans: 1,
      rejected: 1,
      actionsDays: 90,
      rejectedDays: 30,
    });
    expect((await api('GET', '/v1/audit/verify', undefined, viewer)).body.ok).toBe(true);
    const kept = (await api('GET', '/v1/audit?actionId=old-exec', undefined, viewer)).body.entries;
    expect(kept.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['action.executed']));

    // A second run finds nothing and says so.
    expect(await runOpsTask(ctx, 'retention')).toMatchObject({
      actions: { executed: 0, cancelled: 0 },
      orphans: 0,
      rejected: 0,
    });
    expect((await ctx.audit.head()).seq).toBe(auditBefore.seq + 2);
  });

  it('a run that fails part way still audits what it deleted, with the error, and fails', async () => {
    const ctx = rt.ctx;
    skewMs = 0;
    await cancelled('doomed');
    skewMs = 200 * DAY_MS;
    // The rejected list replaced by another type: the rejected step cannot read it.
    await ctx.redis.del(ctx.keys.rejected);
    await ctx.redis.set(ctx.keys.rejected, 'not a stream');
    await expect(runOpsTask(ctx, 'retention')).rejects.toThrow(/WRONGTYPE/);
    const [last] = (
      await api('GET', `/v1/audit?after=${(await ctx.audit.head()).seq - 1}`, undefined, viewer)
    ).body.entries;
    expect(last).toMatchObject({
      type: 'retention.pruned',
      details: { actions: { cancelled: 2 }, rejected: 0, error: expect.stringMatching(/WRONGTYPE/) },
    });
    expect(await stateOf('doomed')).toBe('gone');
    await ctx.redis.del(ctx.keys.rejected);
  });
});
