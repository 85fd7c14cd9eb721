/**
 * Replan on a policy change (issue #13 item 3), end to end on real Redis with
 * real workers: people are planned by a lastday under policy A; lastday
 * restarts with a holiday added (and a new default end time and verify delay);
 * the reconcile pass queued at start replans only what is open and not yet
 * due, audits it, and the new instants are the ones that fire. A third start
 * adds a scope: only the people it matches move. The clock is injected: the
 * restart happens seconds before 09:00 on Tuesday 1 December 2026, the instant
 * the new policy gives `reduce` (one business day earlier) and `revoke`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { runMilestoneJob } from '../../jobs/milestone.ts';
import { runOpsTask } from '../../jobs/ops/tasks.ts';
import { reconcile } from '../../jobs/ops/reconcile.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { hrEventSchema } from '../../src/domain/hrEvent.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { policyFingerprint } from '../../src/domain/replan.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import { submitHrEvent } from '../../src/queues/intake.ts';
import { type EventOverrides, hrEvent } from '../helpers/events.ts';
import { eventually, testContext, testPrefix, testRuntime, testSettings } from '../helpers/lastday.ts';

const prefix = testPrefix();
const A = { policy: {} };
const B = { policy: { holidays: ['2026-12-03'], defaultEndTime: '09:00', verifyAfterMinutes: 30 } };
const C = {
  policy: {
    ...B.policy,
    scopes: [{ name: 'finance', match: { department: 'Finance' }, reduce: { contractorBusinessDays: 3 } }],
  },
};
const settingsOf = (config: Record<string, unknown>) => testSettings(config, { LASTDAY_PREFIX: prefix });

let offsetMs = 0;
const now = () => new Date(Date.now() + offsetMs);
const setClock = (iso: string) => {
  offsetMs = Date.parse(iso) - Date.now();
};

let rt: Runtime | undefined;
afterAll(async () => {
  await rt?.stop();
});

async function start(config: Record<string, unknown>): Promise<Runtime> {
  await rt?.stop();
  rt = await testRuntime(settingsOf(config), { now });
  return rt;
}

let occurred = Date.parse('2026-11-20T00:00:00Z');
async function submit(o: EventOverrides, person: Record<string, unknown> = {}): Promise<void> {
  occurred += 60_000;
  const event = hrEvent({ occurredAt: new Date(occurred).toISOString(), timezone: 'Europe/London', ...o });
  const raw = { ...event, person: { ...(event.person as object), ...person } };
  const ctx = rt!.ctx;
  const result = await submitHrEvent(
    { events: ctx.events, queue: ctx.queues.hrEvents, now: ctx.now },
    raw,
    'cli',
  );
  expect(result.status).toBe('accepted');
}

const get = (id: string) => rt!.ctx.people.get(id);
const due = (r: PersonRecord) => Object.fromEntries(r.milestones.map((m) => [m.name, m.dueAt]));
const milestone = (r: PersonRecord, name: string) => r.milestones.find((m) => m.name === name)!;
const replans = async (id: string) =>
  (await rt!.ctx.audit.list({ personId: id })).filter((e) => e.type === 'policy.replanned');
/** The start-up pass is over once it recorded the policy it replanned everyone under. */
const reconciledUnder = (config: { policy: Record<string, unknown> }) =>
  eventually(
    async () =>
      (await rt!.ctx.redis.get(rt!.ctx.keys.policyReconciled)) ===
      policyFingerprint(settingsOf(config).config.policy),
    20_000,
  );

describe('replan on a policy change', () => {
  it('moves what is open and not due, audits it, and fires at the new instants only', async () => {
    // Policy A, Tuesday 1 December 08:40 (London = UTC in winter).
    setClock('2026-12-01T08:40:00Z');
    await start(A);
    await rt!.ctx.directory.put(
      'endtime/2',
      { active: true, grants: [{ id: 'g-admin', system: 'cms', role: 'admin', privileged: true }] },
      now().toISOString(),
    );
    // Contractor leaving Friday 4th: notice (Fri 27 Nov) already past, runs now; reduce Wed 2 Dec 09:00.
    await submit({ personId: 'holiday/1', lastDay: '2026-12-04' });
    // Employee leaving today at the default 17:00: notice, reduce and freeze run now.
    await submit({ personId: 'endtime/2', employment: 'employee', lastDay: '2026-12-01' });
    // Revoked already (08:30 today); only verify (09:30) is open.
    await submit({ personId: 'revoked/3', employment: 'employee', lastDay: '2026-12-01', endTime: '08:30' });
    await submit({ personId: 'cancelled/4', lastDay: '2026-12-04' });
    await submit({ personId: 'cancelled/4', type: 'offboarding.cancelled' });
    await submit({ personId: 'finance/5', lastDay: '2026-12-11' }, { department: 'Finance' });
    await submit({ personId: 'sales/6', lastDay: '2026-12-11' }, { department: 'Sales' });

    const p1 = await eventually(async () => {
      const r = await get('holiday/1');
      return r && milestone(r, 'notice').state === 'done' ? r : undefined;
    });
    expect(due(p1)).toMatchObject({ notice: '2026-11-27T09:00:00Z', reduce: '2026-12-02T09:00:00Z' });
    const p2 = await eventually(async () => {
      const r = await get('endtime/2');
      return r && milestone(r, 'freeze').state === 'done' ? r : undefined;
    });
    expect(p2.endsAt).toBe('2026-12-01T17:00:00Z');
    const p3 = await eventually(async () => {
      const r = await get('revoked/3');
      return r && milestone(r, 'revoke').state === 'done' ? r : undefined;
    });
    const p4 = await eventually(async () => {
      const r = await get('cancelled/4');
      return r?.cancelled ? r : undefined;
    });
    const p6 = await eventually(() => get('sales/6'));
    await eventually(() => get('finance/5'));

    // Restart with a holiday on Thursday 3rd, a 09:00 default end and a 30-minute verify, just before 09:00.
    setClock('2026-12-01T08:59:55Z');
    await start(B);
    await reconciledUnder(B);

    // The holiday: reduce moves one business day earlier, to today 09:00; done notice stays.
    const r1 = (await get('holiday/1'))!;
    expect(r1.planVersion).toBe(p1.planVersion + 1);
    expect(milestone(r1, 'notice')).toEqual(milestone(p1, 'notice'));
    expect(due(r1)).toMatchObject({
      reduce: '2026-12-01T09:00:00Z',
      freeze: '2026-12-04T00:00:00Z',
      revoke: '2026-12-04T09:00:00Z',
      verify: '2026-12-04T09:30:00Z',
    });
    const [entry] = await replans('holiday/1');
    expect(entry?.details).toMatchObject({
      scope: { from: 'default', to: 'default' },
      policyHash: { from: p1.policyHash, to: r1.policyHash },
      planVersion: { from: p1.planVersion, to: r1.planVersion },
      moved: [
        { name: 'reduce', from: '2026-12-02T09:00:00Z', to: '2026-12-01T09:00:00Z' },
        { name: 'revoke', from: '2026-12-04T17:00:00Z', to: '2026-12-04T09:00:00Z' },
        { name: 'verify', from: '2026-12-04T18:00:00Z', to: '2026-12-04T09:30:00Z' },
      ],
    });
    // The old version's jobs are gone, and one run anyway does nothing.
    const oldReduce = milestoneJobId('holiday/1', p1.planVersion, 'reduce');
    expect(await rt!.ctx.queues.milestones.getJobState(oldReduce)).toBe('unknown');
    const stale = { personId: 'holiday/1', version: p1.planVersion, milestone: 'reduce' as const };
    expect((await runMilestoneJob(rt!.ctx, stale)).outcome).toBe('stale');

    // The new default end time: revoke at 09:00 today instead of 17:00, reduce (done) stays.
    const r2 = (await get('endtime/2'))!;
    expect(r2.endsAt).toBe('2026-12-01T09:00:00Z');
    expect(r2.endTime).toBe('09:00');
    expect(milestone(r2, 'reduce')).toEqual(milestone(p2, 'reduce'));

    // Revoked or cancelled: not replanned, not audited.
    expect(await get('revoked/3')).toEqual(p3);
    expect(await get('cancelled/4')).toEqual(p4);
    expect(await replans('revoked/3')).toEqual([]);
    expect(await replans('cancelled/4')).toEqual([]);

    // The new instants fire: reduce and revoke run at 09:00, not at the old 2 December / 17:00.
    const reduced = await eventually(async () => {
      const r = await get('holiday/1');
      return r && milestone(r, 'reduce').state === 'done' ? r : undefined;
    }, 20_000);
    const reducedAt = Date.parse(milestone(reduced, 'reduce').doneAt!);
    expect(reducedAt).toBeGreaterThanOrEqual(Date.parse('2026-12-01T09:00:00Z'));
    expect(reducedAt).toBeLessThan(Date.parse('2026-12-01T09:05:00Z'));
    const revoked = await eventually(async () => {
      const r = await get('endtime/2');
      return r && milestone(r, 'revoke').state === 'done' ? r : undefined;
    }, 20_000);
    const revokedAt = Date.parse(milestone(revoked, 'revoke').doneAt!);
    expect(revokedAt).toBeGreaterThanOrEqual(Date.parse('2026-12-01T09:00:00Z'));
    expect(revokedAt).toBeLessThan(Date.parse('2026-12-01T09:05:00Z'));
    expect(await rt!.ctx.directory.get('endtime/2')).toMatchObject({ active: false, grants: [] });

    // A second pass finds nothing to do and writes nothing.
    const audited = (await rt!.ctx.audit.list({ limit: 5000 })).filter((e) => e.type === 'policy.replanned');
    expect(audited.map((e) => e.personId).sort()).toEqual(['endtime/2', 'finance/5', 'holiday/1', 'sales/6']);
    const again = await runOpsTask(rt!.ctx, 'reconcile');
    expect(again).toMatchObject({ replanned: 0, restamped: 0, replanDeferred: 0, errors: 0 });
    const after = (await rt!.ctx.audit.list({ limit: 5000 })).filter((e) => e.type === 'policy.replanned');
    expect(after).toHaveLength(audited.length);

    // A scope for Finance: only the Finance contractor moves (reduce 3 business days before).
    const f5 = (await get('finance/5'))!;
    const s6 = (await get('sales/6'))!;
    expect(s6.rev).toBeGreaterThan(p6.rev);
    await start(C);
    await reconciledUnder(C);
    const f5c = (await get('finance/5'))!;
    expect(f5c.policyScope).toBe('finance');
    expect(due(f5c)).toEqual({ ...due(f5), reduce: '2026-12-08T09:00:00Z' });
    const last = (await replans('finance/5')).at(-1);
    expect(last?.details).toMatchObject({
      scope: { from: 'default', to: 'finance' },
      moved: [{ name: 'reduce', from: '2026-12-09T09:00:00Z', to: '2026-12-08T09:00:00Z' }],
    });
    expect(await get('sales/6')).toEqual(s6);
    expect(await replans('sales/6')).toHaveLength(1);
    expect((await rt!.ctx.audit.verify()).ok).toBe(true);
  });
});

describe('replan on a policy change, without workers', () => {
  it('leaves a busy person to the next pass; an unchanged policy queues nothing; an old one does not replan', async () => {
    const own = testPrefix();
    const settings = (config: Record<string, unknown>) => testSettings(config, { LASTDAY_PREFIX: own });
    const at = () => new Date('2026-11-23T10:00:00Z');
    const before = await testContext(settings(A), at);
    const after = await testContext(settings(B), at);
    try {
      for (const id of ['busy/1', 'free/2']) {
        const event = hrEvent({
          personId: id,
          lastDay: '2026-12-04',
          timezone: 'Europe/London',
          occurredAt: '2026-11-23T09:00:00Z',
        });
        expect((await applyEvent(before, hrEventSchema.parse(event))).outcome).toBe('applied');
      }
      // A milestone job holds busy/1 for the whole pass.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const locked = new Promise<void>((ready) => {
        void after.lock.withLock('busy/1', () => {
          ready();
          return held;
        });
      });
      await locked;
      const first = await reconcile(after);
      expect(first).toMatchObject({ replanned: 1, replanDeferred: 1, errors: 0 });
      expect((await after.people.get('busy/1'))!.planVersion).toBe(1);
      // Someone was left behind: the policy is not recorded as reconciled.
      expect(await after.redis.get(after.keys.policyReconciled)).toBeNull();
      release();

      const second = await reconcile(after);
      expect(second).toMatchObject({ replanned: 1, replanDeferred: 0 });
      const busy = (await after.people.get('busy/1'))!;
      expect(busy.planVersion).toBe(2);
      expect(busy.endsAt).toBe('2026-12-04T09:00:00Z');
      expect(await after.redis.get(after.keys.policyReconciled)).toBe(policyFingerprint(after.policy));

      // A scheduler starting under that policy has nothing to ask for.
      const scheduler = await testRuntime(settings(B), { roles: ['scheduler'], now: at });
      try {
        const jobs = await scheduler.ctx.queues.ops.getJobs(['waiting', 'delayed', 'active', 'completed']);
        expect(jobs.map((j) => j.id).filter((id) => id?.startsWith('reconcile-policy-'))).toEqual([]);
      } finally {
        await scheduler.stop();
      }

      // A process still on policy A (a rolling deploy) no longer replans: B's scheduler started last.
      const stale = await reconcile(before);
      expect(stale).toMatchObject({ policyOutdated: true, replanned: 0, restamped: 0, errors: 0 });
      expect(await after.people.get('busy/1')).toEqual(busy);
    } finally {
      await before.close();
      await after.close();
    }
  });
});
