/**
 * Replanning under a changed policy, the pure part (issue #13 item 3): what
 * moves when a holiday is added, a business-day count or a default end time
 * changes, or a scope is added — only what is not done, nothing reopens — and
 * what a plan from the current policy answers (unchanged).
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { type HrEvent, hrEventSchema } from '../../src/domain/hrEvent.ts';
import { applyHrEvent, type PersonRecord } from '../../src/domain/person.ts';
import type { Policy } from '../../src/domain/policy.ts';
import { plannedUnderOtherPolicy, policyFingerprint, replanUnderPolicy } from '../../src/domain/replan.ts';

const T0 = DateTime.fromISO('2026-11-02T00:00:00Z');
const policyOf = (policy: Record<string, unknown>) => parseConfig({ policy }).policy;

function event(patch: Record<string, unknown> = {}, person: Record<string, unknown> = {}): HrEvent {
  return hrEventSchema.parse({
    eventId: `e-${Math.random()}`,
    type: 'contract.ending',
    occurredAt: '2026-11-01T00:00:00Z',
    person: { id: 'p-1', employment: 'contractor', timezone: 'Europe/Berlin', ...person },
    lastDay: '2026-12-04', // a Friday
    ...patch,
  });
}

function planned(policy: Policy, e: HrEvent = event(), now = T0): PersonRecord {
  const r = applyHrEvent(undefined, e, policy, now);
  if (r.outcome !== 'applied') throw new Error(r.reason);
  return r.record;
}

const due = (record: PersonRecord) => Object.fromEntries(record.milestones.map((m) => [m.name, m.dueAt]));

function replanned(record: PersonRecord, policy: Policy, now = T0) {
  const r = replanUnderPolicy(record, policy, now);
  if (r.outcome !== 'replanned') throw new Error(`expected a replan: ${r.reason}`);
  return r;
}

describe('replan under a changed policy', () => {
  it('a holiday added: reduce and notice move back, the rest stays, the stamp follows', () => {
    const before = policyOf({});
    const record = planned(before);
    expect(due(record).reduce).toBe('2026-12-02T08:00:00Z'); // 2 business days before Friday 4th
    const after = policyOf({ holidays: ['2026-12-02'] });
    expect(plannedUnderOtherPolicy(record, before)).toBe(false);
    expect(plannedUnderOtherPolicy(record, after)).toBe(true);

    const r = replanned(record, after);
    expect(due(r.record)).toEqual({
      ...due(record),
      reduce: '2026-12-01T08:00:00Z',
      notice: '2026-11-26T08:00:00Z', // 3, 1, 30 Nov, 27, 26 (2 December skipped)
    });
    expect(r.moved.map((m) => m.name)).toEqual(['notice', 'reduce']);
    expect(r.from).toEqual({ scope: 'default', hash: record.policyHash });
    expect(r.to.hash).not.toBe(record.policyHash);
    expect(r.record.policyHash).toBe(r.to.hash);
    expect(r.record.planVersion).toBe(record.planVersion + 1);
    // Saved, it is a plan from the current policy.
    expect(replanUnderPolicy(r.record, after, T0)).toEqual({
      outcome: 'unchanged',
      reason: 'planned under this policy',
    });
  });

  it('done milestones stay done and never reopen, even when the new policy would put them ahead', () => {
    const record = planned(policyOf({}));
    const done = {
      ...record,
      milestones: record.milestones.map((m) =>
        m.name === 'notice' || m.name === 'reduce' ? { ...m, state: 'done' as const, doneAt: m.dueAt } : m,
      ),
    };
    // Reduce becomes 0 business days (on the last day): later than when it ran.
    const r = replanned(
      done,
      policyOf({ reduce: { contractorBusinessDays: 0 }, notice: { businessDays: 1 } }),
      T0,
    );
    expect(r.record.milestones.find((m) => m.name === 'reduce')).toEqual(
      done.milestones.find((m) => m.name === 'reduce'),
    );
    expect(r.record.milestones.find((m) => m.name === 'notice')?.state).toBe('done');
    expect(r.moved).toEqual([]);
    expect(r.record.planVersion).toBe(done.planVersion); // no job went stale
  });

  it('a milestone moved into the past runs at once: actionable from now', () => {
    const record = planned(policyOf({}));
    // Notice was due on 27 November; ten business days put it on the 20th, already past.
    const now = DateTime.fromISO('2026-11-25T12:00:00Z');
    const r = replanned(record, policyOf({ notice: { businessDays: 10 } }), now);
    const notice = r.record.milestones.find((m) => m.name === 'notice')!;
    expect(notice.dueAt).toBe('2026-11-20T08:00:00Z');
    expect(notice.actionableAt).toBe('2026-11-25T12:00:00Z');
    expect(notice.state).toBe('scheduled');
  });

  it('a new default end time moves a defaulted revoke (and endTime), never an explicit one', () => {
    const before = policyOf({});
    const after = policyOf({ defaultEndTime: '15:30' });
    const defaulted = replanned(planned(before), after);
    expect(defaulted.record.endTime).toBe('15:30');
    expect(defaulted.record.endsAt).toBe('2026-12-04T14:30:00Z');
    expect(due(defaulted.record).verify).toBe('2026-12-04T15:30:00Z');
    expect(defaulted.moved.map((m) => m.name)).toEqual(['revoke', 'verify']);

    const explicit = planned(before, event({ endTime: '17:00' }));
    const kept = replanned(explicit, after);
    expect(kept.moved).toEqual([]);
    expect(kept.record.endTime).toBe('17:00');
    expect(kept.record.endsAt).toBe(explicit.endsAt);

    // A plan saved before lastday recorded where its end time came from keeps it.
    const { endTimeDefaulted: _d, ...old } = planned(before);
    expect(replanned(old, after).moved).toEqual([]);
  });

  it('a scope added: only the people it matches move', () => {
    const before = policyOf({});
    const after = policyOf({
      scopes: [{ name: 'finance', match: { department: 'Finance' }, reduce: { contractorBusinessDays: 5 } }],
    });
    const finance = planned(before, event({}, { department: 'Finance' }));
    const sales = planned(before, event({}, { department: 'Sales' }));
    expect(plannedUnderOtherPolicy(finance, after)).toBe(true);
    expect(plannedUnderOtherPolicy(sales, after)).toBe(false);
    const r = replanned(finance, after);
    expect(r.to.scope).toBe('finance');
    expect(r.record.policyScope).toBe('finance');
    expect(due(r.record).reduce).toBe('2026-11-27T08:00:00Z');
  });

  it('a termination: only verify follows the policy', () => {
    const policy = policyOf({});
    const terminated = planned(
      policy,
      event({ type: 'contract.terminated', lastDay: undefined, effectiveAt: '2026-11-10T10:00:00Z' }),
    );
    const r = replanned(terminated, policyOf({ verifyAfterMinutes: 15, holidays: ['2026-11-09'] }));
    expect(r.moved).toEqual([{ name: 'verify', from: '2026-11-10T11:00:00Z', to: '2026-11-10T10:15:00Z' }]);
    expect(r.record.endsAt).toBe('2026-11-10T10:00:00Z');
  });

  it('a plan saved before fingerprints is stamped without moving when nothing changes', () => {
    const { policyHash: _h, policyScope: _s, ...old } = planned(policyOf({ holidays: ['2026-12-25'] }));
    const r = replanned(old, policyOf({ holidays: ['2026-12-25'] }));
    expect(r.from).toEqual({ scope: 'default', hash: null });
    expect(r.moved).toEqual([]);
    expect(r.record.planVersion).toBe(old.planVersion);
    expect(r.record.milestones).toEqual(old.milestones);
  });

  it('nothing to replan: cancelled, or every milestone done', () => {
    const policy = policyOf({});
    const record = planned(policy);
    const cancelled = { ...record, cancelled: true };
    const finished = {
      ...record,
      milestones: record.milestones.map((m) => ({ ...m, state: 'done' as const })),
    };
    const changed = policyOf({ holidays: ['2026-12-03'] });
    for (const r of [cancelled, finished]) {
      expect(replanUnderPolicy(r, changed, T0)).toEqual({
        outcome: 'unchanged',
        reason: 'no open milestone',
      });
      expect(plannedUnderOtherPolicy(r, changed)).toBe(false);
    }
  });
  it('an open milestone already due stays put: what is under way is not postponed', () => {
    const record = planned(policyOf({}));
    // Reduce (2 December 08:00 UTC) is due and still open: running, or retrying a failed connector.
    const now = DateTime.fromISO('2026-12-02T10:00:00Z');
    const r = replanned(
      record,
      policyOf({ reduce: { contractorBusinessDays: 0 }, defaultEndTime: '16:00' }),
      now,
    );
    expect(r.record.milestones.find((m) => m.name === 'reduce')).toEqual(
      record.milestones.find((m) => m.name === 'reduce'),
    );
    expect(r.moved.map((m) => m.name)).toEqual(['revoke', 'verify']);
  });

  it('revoked, or revoke started in a connector: nothing moves, not even verify', () => {
    const policy = policyOf({});
    const record = planned(policy);
    const revoked = {
      ...record,
      milestones: record.milestones.map((m) =>
        m.name === 'verify' ? m : { ...m, state: 'done' as const, doneAt: m.dueAt },
      ),
    };
    const changed = policyOf({ verifyAfterMinutes: 5 });
    expect(plannedUnderOtherPolicy(revoked, changed)).toBe(false);
    expect(replanUnderPolicy(revoked, changed, T0)).toEqual({ outcome: 'unchanged', reason: 'revoked' });
    expect(replanUnderPolicy(record, changed, T0, { revokeStarted: true })).toEqual({
      outcome: 'unchanged',
      reason: 'revoke took effect',
    });
  });

  it('the policy fingerprint changes with anything a plan depends on, scopes and their order included', () => {
    const scopes = [
      { name: 'de', match: { country: 'DE' }, holidays: ['2026-12-24'] },
      { name: 'fin', match: { department: 'Finance' }, reduce: { contractorBusinessDays: 5 } },
    ];
    const base = policyFingerprint(policyOf({ holidays: ['2026-12-25'], scopes }));
    expect(policyFingerprint(policyOf({ holidays: ['2026-12-25'], scopes }))).toBe(base);
    for (const other of [
      { holidays: ['2026-12-25', '2026-12-31'], scopes },
      { holidays: ['2026-12-25'], scopes: [...scopes].reverse() },
      { holidays: ['2026-12-25'], scopes: [scopes[0], { ...scopes[1], match: { department: 'Legal' } }] },
      { holidays: ['2026-12-25'], scopes, verifyAfterMinutes: 30 },
    ]) {
      expect(policyFingerprint(policyOf(other))).not.toBe(base);
    }
  });
});
