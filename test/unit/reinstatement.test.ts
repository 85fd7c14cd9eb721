/**
 * Reinstatement's pure rules (src/domain/reinstatement.ts) with a pinned
 * `now`: who may be reinstated and until when, what the record becomes, and
 * what a later HR event does to a reinstated person (a new cycle).
 */
import { describe, expect, it } from 'vitest';
import { guardStatus } from '../../src/domain/action.ts';
import type { MilestoneName } from '../../src/domain/milestone.ts';
import { applyHrEvent, type PersonRecord, personView, statusOf } from '../../src/domain/person.ts';
import { defaultPolicy } from '../../src/domain/policy.ts';
import {
  auditPersonOf,
  checkReinstatable,
  reinstatedPersonOf,
  reinstatedRecord,
  reinstateTarget,
  REINSTATE_KIND,
} from '../../src/domain/reinstatement.ts';
import { applied, applyAt, at, ev, markDone, planned } from '../helpers/plan.ts';

/** revoke of the Dec 4 plan (see person.test.ts). */
const REVOKE = '2026-12-05T01:00:00Z';

const revoked = (done: MilestoneName[] = ['notice', 'reduce', 'freeze', 'revoke']) =>
  markDone(planned(), done);

const ALL: MilestoneName[] = ['notice', 'reduce', 'freeze', 'revoke', 'verify'];

const reinstate = (record: PersonRecord, now = '2026-12-05T01:11:00Z') =>
  reinstatedRecord(
    record,
    {
      actionId: 'reinstate.1',
      requestedBy: 'admin-1',
      approvedBy: 'approver-2',
      reason: 'wrong person',
      at: now,
    },
    defaultPolicy,
    at(now),
  );

describe('checkReinstatable', () => {
  it('allows a revoked person within the window, counted from the revoke', () => {
    const check = checkReinstatable(revoked(), 30, new Date('2027-01-04T00:59:59Z'));
    expect(check).toEqual({ ok: true, revokedAt: REVOKE, windowEndsAt: '2027-01-04T01:00:00.000Z' });
  });

  it('refuses outside the window, a person not revoked, and one reinstated already', () => {
    expect(checkReinstatable(revoked(), 30, new Date('2027-01-04T01:00:01Z'))).toMatchObject({
      ok: false,
      reason: 'window_closed',
    });
    expect(checkReinstatable(revoked(['notice', 'reduce', 'freeze']), 30, new Date(REVOKE))).toMatchObject({
      ok: false,
      reason: 'not_revoked',
    });
    expect(checkReinstatable(reinstate(revoked()), 30, new Date(REVOKE))).toMatchObject({
      ok: false,
      reason: 'already_reinstated',
    });
  });

  it('allows a revoked person whose departure was then called off (reinstatement_required)', () => {
    const cancelled = applyAt(
      revoked(),
      ev({ eventId: 'cancel', type: 'offboarding.cancelled', occurredAt: '2026-12-05T01:05:00Z' }),
      '2026-12-05T01:06:00Z',
    );
    expect(cancelled.reinstatementRequired).toBe(true);
    expect(checkReinstatable(cancelled, 30, new Date('2026-12-06T00:00:00Z')).ok).toBe(true);
    const back = reinstate(cancelled);
    expect(statusOf(back)).toBe('reinstated');
    expect(back.reinstatementRequired).toBe(false);
  });
});

describe('the reinstated record', () => {
  it('is status reinstated, cancels what is still open (verify), and counts as active for the guard', () => {
    const record = reinstate(revoked());
    expect(statusOf(record)).toBe('reinstated');
    expect(record.milestones.find((m) => m.name === 'verify')?.state).toBe('cancelled');
    expect(record.milestones.find((m) => m.name === 'revoke')?.state).toBe('done');
    expect(personView(record)).toMatchObject({
      status: 'reinstated',
      reinstatement_required: false,
      reinstatement: { actionId: 'reinstate.1', requestedBy: 'admin-1', approvedBy: 'approver-2' },
    });
    expect(guardStatus(record, null)).toBe('active');
  });

  it('a new contract.ending plans a new departure in a new cycle, nothing carried over', () => {
    const record = reinstate(revoked());
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'again', lastDay: '2027-03-05', occurredAt: '2026-12-10T10:00:00Z' }),
        defaultPolicy,
        at('2026-12-10T10:00:00Z'),
      ),
    );
    expect(next.record.cycle).toBe(record.cycle + 1);
    expect(next.record.reinstatement).toBeUndefined();
    expect(next.record.reinstatementRequired).toBe(false);
    expect(statusOf(next.record)).toBe('scheduled');
    expect(next.record.milestones.every((m) => m.state === 'scheduled')).toBe(true);
    expect(next.consequences).toEqual({ restoreGrants: false, unfreeze: false });
  });

  it('a termination after reinstatement revokes again, at once', () => {
    const next = applied(
      applyHrEvent(
        reinstate(revoked()),
        ev({ eventId: 'term', type: 'contract.terminated', occurredAt: '2026-12-10T10:00:00Z' }),
        defaultPolicy,
        at('2026-12-10T10:00:00Z'),
      ),
    );
    expect(next.record.cycle).toBe(2);
    expect(next.record.milestones.find((m) => m.name === 'revoke')).toMatchObject({
      state: 'scheduled',
      dueAt: '2026-12-10T10:00:00Z',
    });
  });

  it('a cancellation of a reinstated person changes nothing', () => {
    const record = reinstate(revoked());
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'cancel', type: 'offboarding.cancelled', occurredAt: '2026-12-10T10:00:00Z' }),
        defaultPolicy,
        at('2026-12-10T10:00:00Z'),
      ),
    );
    expect(statusOf(next.record)).toBe('reinstated');
    expect(next.record.milestones).toEqual(record.milestones);
    expect(next.consequences).toEqual({ restoreGrants: false, unfreeze: false });
  });
});

describe('an extension that came after the revoke', () => {
  it('is planned afresh at reinstatement, in a new cycle, and the status moves on with it', () => {
    const extended = applyAt(
      revoked(ALL),
      ev({ eventId: 'later', lastDay: '2026-12-18', occurredAt: '2026-12-05T01:05:00Z' }),
      '2026-12-05T01:06:00Z',
    );
    expect(extended.reinstatementRequired).toBe(true);
    expect(extended.milestones.some((m) => m.state === 'scheduled')).toBe(false);
    const back = reinstate(extended, '2026-12-06T10:00:00Z');
    expect(statusOf(back)).toBe('reinstated');
    expect(back.cycle).toBe(extended.cycle + 1);
    expect(back.planVersion).toBe(extended.planVersion + 1);
    expect(back.milestones.map((m) => [m.name, m.state])).toEqual([
      ['notice', 'scheduled'],
      ['reduce', 'scheduled'],
      ['freeze', 'scheduled'],
      ['revoke', 'scheduled'],
      ['verify', 'scheduled'],
    ]);
    expect(back.milestones.find((m) => m.name === 'revoke')?.dueAt).toBe(extended.endsAt);
    // The new departure proceeds: once reduce is done the status says so.
    const reduced = {
      ...back,
      milestones: back.milestones.map((m) => (m.name === 'reduce' ? { ...m, state: 'done' as const } : m)),
    };
    expect(statusOf(reduced)).toBe('reduced');
    // A later HR event merges into that plan (same cycle), it does not start another.
    const moved = applyAt(
      back,
      ev({ eventId: 'moved', lastDay: '2026-12-23', occurredAt: '2026-12-07T10:00:00Z' }),
      '2026-12-07T10:00:00Z',
    );
    expect(moved.cycle).toBe(back.cycle);
    expect(statusOf(moved)).toBe('scheduled');
  });

  it('a cancellation of that new plan cancels it', () => {
    const extended = applyAt(
      revoked(ALL),
      ev({ eventId: 'later', lastDay: '2026-12-18', occurredAt: '2026-12-05T01:05:00Z' }),
      '2026-12-05T01:06:00Z',
    );
    const back = reinstate(extended, '2026-12-06T10:00:00Z');
    const cancelled = applied(
      applyHrEvent(
        back,
        ev({ eventId: 'stop', type: 'offboarding.cancelled', occurredAt: '2026-12-07T10:00:00Z' }),
        defaultPolicy,
        at('2026-12-07T10:00:00Z'),
      ),
    );
    expect(statusOf(cancelled.record)).toBe('cancelled');
    expect(cancelled.record.reinstatementRequired).toBe(false);
  });
});

describe('reinstatement actions', () => {
  it('are recognised by kind and target, and filed under the person reinstated', () => {
    const action = { kind: REINSTATE_KIND, target: reinstateTarget('a:b/c'), initiatorId: 'admin-1' };
    expect(reinstatedPersonOf(action)).toBe('a:b/c');
    expect(auditPersonOf(action)).toBe('a:b/c');
    expect(reinstatedPersonOf({ kind: 'account.delete', target: 'person:x' })).toBeUndefined();
    expect(auditPersonOf({ kind: 'account.delete', target: 'person:x', initiatorId: 'tool' })).toBe('tool');
  });
});
