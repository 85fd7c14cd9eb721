/**
 * The person state machine (applyHrEvent), with a pinned `now`: idempotency,
 * ordering, replans, cancellations and terminations (contract section 3).
 */
import { describe, expect, it } from 'vitest';
import {
  applyHrEvent,
  handledEvent,
  noteHandled,
  openMilestones,
  type PersonRecord,
  personView,
  statusOf,
} from '../../src/domain/person.ts';
import { defaultPolicy } from '../../src/domain/policy.ts';
import { applied, applyAt, at, ev, markDone, planned, T0 } from '../helpers/plan.ts';

function byName(record: PersonRecord) {
  return Object.fromEntries(record.milestones.map((m) => [m.name, m]));
}

const PLAN_DEC_4 = {
  notice: '2026-11-27T17:00:00Z',
  reduce: '2026-12-02T17:00:00Z',
  freeze: '2026-12-04T08:00:00Z',
  revoke: '2026-12-05T01:00:00Z',
  verify: '2026-12-05T02:00:00Z',
};

describe('a first contract.ending', () => {
  it('plans every milestone, scheduled, and shows the contract view', () => {
    const record = planned();
    expect(record.milestones.map((m) => [m.name, m.dueAt, m.state])).toEqual(
      Object.entries(PLAN_DEC_4).map(([name, dueAt]) => [name, dueAt, 'scheduled']),
    );
    expect(statusOf(record)).toBe('scheduled');
    expect(record.planVersion).toBe(1);
    const view = personView(record);
    expect(view).toMatchObject({
      personId: 'c-1042',
      status: 'scheduled',
      employment: 'contractor',
      timezone: 'America/Los_Angeles',
      lastDay: '2026-12-04',
      endsAt: '2026-12-05T01:00:00Z',
      reinstatement_required: false,
    });
    for (const m of view.milestones) {
      expect(Object.keys(m).sort()).toEqual(['dueAt', 'name', 'state']);
      expect(m.dueAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
    }
  });

  it('past-due milestones are planned as scheduled, in contract order, to run at once', () => {
    const late = at('2026-12-10T00:00:00Z');
    const record = applied(applyHrEvent(undefined, ev(), defaultPolicy, late)).record;
    const open = openMilestones(record);
    expect(open.map((m) => m.name)).toEqual(['notice', 'reduce', 'freeze', 'revoke', 'verify']);
    expect(open.every((m) => Date.parse(m.dueAt) < late.toMillis())).toBe(true);
    expect(statusOf(record)).toBe('scheduled');
  });
});

describe('idempotency and ordering', () => {
  it('the same eventId again is a duplicate', () => {
    const record = planned();
    const again = applyHrEvent(
      record,
      ev({ eventId: 'first', lastDay: '2026-12-11' }),
      defaultPolicy,
      at(T0),
    );
    expect(again.outcome).toBe('duplicate');
  });

  it('an event handled before, not the newest, is a duplicate while the record names it', () => {
    const record = applyAt(planned(), ev({ eventId: 'second', lastDay: '2026-12-11' }), T0);
    expect(record.recentEvents).toEqual(['first', 'second']);
    expect(handledEvent(record, 'first')).toBe(true);
    expect(handledEvent(record, 'other')).toBe(false);
    expect(applyHrEvent(record, ev({ eventId: 'first' }), defaultPolicy, at(T0)).outcome).toBe('duplicate');
  });

  it('a record from before recentEvents cannot tell, and keeps saying so once noted', () => {
    const { recentEvents: _r, ...before } = planned();
    expect(handledEvent(before, 'first')).toBe(true);
    expect(handledEvent(before, 'other')).toBeUndefined();
    const noted = noteHandled(before, 'other');
    expect(noted).toMatchObject({ recentEvents: ['other'], legacyEventMarks: true });
    expect(handledEvent(noted, 'another')).toBeUndefined();
    expect(handledEvent(undefined, 'other')).toBe(false);
  });

  it('an event older than the newest applied one is stale and changes nothing', () => {
    const record = planned();
    const older = applyHrEvent(
      record,
      ev({ eventId: 'older', occurredAt: '2026-11-20T14:59:59Z', lastDay: '2026-12-11' }),
      defaultPolicy,
      at(T0),
    );
    expect(older.outcome).toBe('stale');
  });

  it('occurredAt offsets are compared as instants, not as strings', () => {
    const record = planned(); // occurredAt 15:00Z
    // 07:30-08:00 is 15:30Z: newer, although the string sorts first.
    const newer = applyHrEvent(
      record,
      ev({ eventId: 'newer', occurredAt: '2026-11-20T07:30:00-08:00', lastDay: '2026-12-11' }),
      defaultPolicy,
      at(T0),
    );
    expect(newer.outcome).toBe('applied');
    // 16:00+02:00 is 14:00Z: older, although the string sorts last.
    const older = applyHrEvent(
      record,
      ev({ eventId: 'older', occurredAt: '2026-11-20T16:00:00+02:00', lastDay: '2026-12-11' }),
      defaultPolicy,
      at(T0),
    );
    expect(older.outcome).toBe('stale');
  });
});

describe('replanning (a newer contract.ending)', () => {
  it('moves open milestones and keeps done ones done', () => {
    const now = at('2026-11-28T00:00:00Z');
    const record = markDone(planned(), ['notice']);
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'later', occurredAt: '2026-11-27T00:00:00Z', lastDay: '2026-12-11' }),
        defaultPolicy,
        now,
      ),
    );
    const m = byName(next.record);
    expect(m.notice).toEqual({
      name: 'notice',
      dueAt: PLAN_DEC_4.notice,
      state: 'done',
      doneAt: PLAN_DEC_4.notice,
    });
    expect(m.reduce).toMatchObject({ dueAt: '2026-12-09T17:00:00Z', state: 'scheduled' });
    expect(m.freeze).toMatchObject({ dueAt: '2026-12-11T08:00:00Z', state: 'scheduled' });
    expect(m.revoke).toMatchObject({ dueAt: '2026-12-12T01:00:00Z', state: 'scheduled' });
    expect(m.verify).toMatchObject({ dueAt: '2026-12-12T02:00:00Z', state: 'scheduled' });
    expect(next.record.endsAt).toBe('2026-12-12T01:00:00Z');
    expect(next.record.lastDay).toBe('2026-12-11');
    expect(next.record.planVersion).toBe(record.planVersion + 1);
    expect(next.consequences).toEqual({ restoreGrants: false, unfreeze: false });
  });

  it('an extension after reduce reopens reduce and restores the grants', () => {
    const now = at('2026-12-02T18:00:00Z');
    const record = markDone(planned(), ['notice', 'reduce']);
    expect(statusOf(record)).toBe('reduced');
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'ext', occurredAt: '2026-12-02T17:30:00Z', lastDay: '2026-12-11' }),
        defaultPolicy,
        now,
      ),
    );
    expect(byName(next.record).reduce).toEqual({
      name: 'reduce',
      dueAt: '2026-12-09T17:00:00Z',
      state: 'scheduled',
    });
    expect(byName(next.record).notice?.state).toBe('done');
    expect(next.consequences.restoreGrants).toBe(true);
    expect(statusOf(next.record)).toBe('scheduled');
  });

  it('a change that leaves reduce in the past keeps it done: nothing restored', () => {
    const now = at('2026-12-02T18:00:00Z');
    const record = markDone(planned(), ['notice', 'reduce']);
    const next = applied(
      applyHrEvent(
        record,
        ev({
          eventId: 'earlier',
          occurredAt: '2026-12-02T17:30:00Z',
          lastDay: '2026-12-03',
          endTime: '12:00',
        }),
        defaultPolicy,
        now,
      ),
    );
    expect(byName(next.record).reduce?.state).toBe('done');
    expect(byName(next.record).revoke).toMatchObject({ dueAt: '2026-12-03T20:00:00Z', state: 'scheduled' });
    expect(next.consequences.restoreGrants).toBe(false);
    expect(statusOf(next.record)).toBe('reduced');
  });

  it('an extension after freeze reopens freeze and unfreezes', () => {
    const now = at('2026-12-04T10:00:00Z');
    const record = markDone(planned(), ['notice', 'reduce', 'freeze']);
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'ext', occurredAt: '2026-12-04T09:00:00Z', lastDay: '2026-12-11' }),
        defaultPolicy,
        now,
      ),
    );
    expect(next.consequences).toEqual({ restoreGrants: true, unfreeze: true });
    expect(statusOf(next.record)).toBe('scheduled');
  });

  it('an extension after revoke keeps everything done and flags reinstatement', () => {
    const now = at('2026-12-05T01:30:00Z');
    const record = markDone(planned(), ['notice', 'reduce', 'freeze', 'revoke']);
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'ext', occurredAt: '2026-12-05T01:20:00Z', lastDay: '2026-12-11' }),
        defaultPolicy,
        now,
      ),
    );
    expect(statusOf(next.record)).toBe('revoked');
    expect(next.record.reinstatementRequired).toBe(true);
    expect(next.consequences).toEqual({ restoreGrants: false, unfreeze: false });
  });
});

describe('offboarding.cancelled', () => {
  it('before revoke: open milestones cancelled, reduced grants restored', () => {
    const now = at('2026-12-03T00:00:00Z');
    const record = markDone(planned(), ['notice', 'reduce']);
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'cancel', type: 'offboarding.cancelled', occurredAt: '2026-12-02T23:00:00Z' }),
        defaultPolicy,
        now,
      ),
    );
    expect(next.record.milestones.map((m) => [m.name, m.state])).toEqual([
      ['notice', 'done'],
      ['reduce', 'done'],
      ['freeze', 'cancelled'],
      ['revoke', 'cancelled'],
      ['verify', 'cancelled'],
    ]);
    expect(statusOf(next.record)).toBe('cancelled');
    expect(next.record.reinstatementRequired).toBe(false);
    expect(next.consequences).toEqual({ restoreGrants: true, unfreeze: false });
    expect(openMilestones(next.record)).toEqual([]);
  });

  it('after freeze, before revoke: unfreezes too', () => {
    const record = markDone(planned(), ['notice', 'reduce', 'freeze']);
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'cancel', type: 'offboarding.cancelled', occurredAt: '2026-12-04T09:00:00Z' }),
        defaultPolicy,
        at('2026-12-04T10:00:00Z'),
      ),
    );
    expect(next.consequences).toEqual({ restoreGrants: true, unfreeze: true });
  });

  it('after revoke: nothing restored, reinstatement_required', () => {
    const record = markDone(planned(), ['notice', 'reduce', 'freeze', 'revoke']);
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'cancel', type: 'offboarding.cancelled', occurredAt: '2026-12-05T01:10:00Z' }),
        defaultPolicy,
        at('2026-12-05T01:20:00Z'),
      ),
    );
    expect(next.consequences).toEqual({ restoreGrants: false, unfreeze: false });
    expect(next.record.reinstatementRequired).toBe(true);
    expect(personView(next.record).reinstatement_required).toBe(true);
    expect(byName(next.record).verify?.state).toBe('cancelled');
    expect(statusOf(next.record)).toBe('cancelled');
  });

  it('after a partial revoke (revoke took effect in some connector): like after revoke', () => {
    const record = markDone(planned(), ['notice', 'reduce', 'freeze']);
    const next = applied(
      applyHrEvent(
        record,
        ev({ eventId: 'cancel', type: 'offboarding.cancelled', occurredAt: '2026-12-05T01:10:00Z' }),
        defaultPolicy,
        at('2026-12-05T01:20:00Z'),
        { revokeStarted: true },
      ),
    );
    expect(next.consequences).toEqual({ restoreGrants: false, unfreeze: false });
    expect(next.record.reinstatementRequired).toBe(true);
  });

  it('a new contract.ending after a cancellation starts a fresh plan in a new cycle', () => {
    const cancelled = applyAt(
      markDone(planned(), ['notice', 'reduce']),
      ev({ eventId: 'cancel', type: 'offboarding.cancelled', occurredAt: '2026-12-02T23:00:00Z' }),
      '2026-12-03T00:00:00Z',
    );
    const again = applied(
      applyHrEvent(
        cancelled,
        ev({ eventId: 'again', occurredAt: '2026-12-10T00:00:00Z', lastDay: '2027-01-15' }),
        defaultPolicy,
        at('2026-12-10T00:00:00Z'),
      ),
    );
    expect(again.record.cycle).toBe(cancelled.cycle + 1);
    expect(again.record.milestones.every((m) => m.state === 'scheduled')).toBe(true);
    expect(statusOf(again.record)).toBe('scheduled');
    expect(again.record.cancelled).toBe(false);
  });
});

describe('contract.terminated', () => {
  it('reduce, freeze, revoke at effectiveAt; verify 60 minutes later', () => {
    const now = at('2026-11-21T00:00:00Z');
    const next = applied(
      applyHrEvent(
        planned(),
        ev({
          eventId: 'term',
          type: 'contract.terminated',
          occurredAt: '2026-11-20T20:00:00Z',
          effectiveAt: '2026-11-23T10:00:00-08:00',
        }),
        defaultPolicy,
        now,
      ),
    );
    const m = byName(next.record);
    expect(m.reduce).toMatchObject({ dueAt: '2026-11-23T18:00:00Z', state: 'scheduled' });
    expect(m.freeze).toMatchObject({ dueAt: '2026-11-23T18:00:00Z', state: 'scheduled' });
    expect(m.revoke).toMatchObject({ dueAt: '2026-11-23T18:00:00Z', state: 'scheduled' });
    expect(m.verify).toMatchObject({ dueAt: '2026-11-23T19:00:00Z', state: 'scheduled' });
    // The notice of the called-off plan is not sent any more.
    expect(m.notice?.state).toBe('cancelled');
    expect(next.record.endsAt).toBe('2026-11-23T18:00:00Z');
    expect(next.record.lastDay).toBe('2026-11-23');
  });

  it('effectiveAt defaults to now', () => {
    const now = at('2026-11-21T12:34:56Z');
    const next = applied(
      applyHrEvent(undefined, ev({ eventId: 'term', type: 'contract.terminated' }), defaultPolicy, now),
    );
    expect(next.record.milestones.map((m) => [m.name, m.dueAt])).toEqual([
      ['reduce', '2026-11-21T12:34:56Z'],
      ['freeze', '2026-11-21T12:34:56Z'],
      ['revoke', '2026-11-21T12:34:56Z'],
      ['verify', '2026-11-21T13:34:56Z'],
    ]);
    expect(next.record.endsAt).toBe('2026-11-21T12:34:56Z');
  });

  it('a termination for later, after reduce, does not give the privileged grants back', () => {
    const now = at('2026-12-02T18:00:00Z');
    const record = markDone(planned(), ['notice', 'reduce']);
    const next = applied(
      applyHrEvent(
        record,
        ev({
          eventId: 'term',
          type: 'contract.terminated',
          occurredAt: '2026-12-02T17:59:00Z',
          effectiveAt: '2026-12-03T01:00:00Z',
        }),
        defaultPolicy,
        now,
      ),
    );
    expect(byName(next.record).reduce?.state).toBe('done');
    expect(next.consequences.restoreGrants).toBe(false);
    expect(byName(next.record).revoke).toMatchObject({ dueAt: '2026-12-03T01:00:00Z', state: 'scheduled' });
    expect(statusOf(next.record)).toBe('reduced');
  });
});

describe('actionableAt: when lastday could first act (late HR events)', () => {
  it('planned ahead: nothing stored, actionable at dueAt', () => {
    expect(planned().milestones.every((m) => m.actionableAt === undefined)).toBe(true);
  });

  it('planned after its instant: actionable when the plan was saved, shown in the view', () => {
    // Applied on 2026-12-03 18:00Z: notice and reduce are past due, the rest ahead.
    const now = '2026-12-03T18:00:00Z';
    const record = applyAt(undefined, ev({ eventId: 'late' }), now);
    const m = byName(record);
    expect(m.notice).toMatchObject({ dueAt: PLAN_DEC_4.notice, actionableAt: now, state: 'scheduled' });
    expect(m.reduce).toMatchObject({ dueAt: PLAN_DEC_4.reduce, actionableAt: now, state: 'scheduled' });
    expect(m.freeze!.actionableAt).toBeUndefined();
    expect(m.revoke!.actionableAt).toBeUndefined();
    const view = personView(record).milestones;
    expect(view.find((v) => v.name === 'reduce')).toMatchObject({ actionableAt: now });
    expect(view.find((v) => v.name === 'revoke')).not.toHaveProperty('actionableAt');
  });

  it('an open milestone moved into the past becomes actionable at the replan', () => {
    // First plan for Dec 4 on Nov 20, notice done on Nov 27; on Dec 1 HR says the
    // last day was Nov 27. The rest were not due under the old plan.
    const replanAt = '2026-12-01T12:00:00Z';
    const next = applyAt(
      markDone(planned(), ['notice']),
      ev({ eventId: 'earlier', lastDay: '2026-11-27', occurredAt: '2026-12-01T11:00:00Z' }),
      replanAt,
    );
    expect(byName(next).notice).toMatchObject({ state: 'done', dueAt: PLAN_DEC_4.notice });
    expect(byName(next).notice!.actionableAt).toBeUndefined();
    for (const m of next.milestones.filter((x) => x.name !== 'notice')) {
      expect(Date.parse(m.dueAt)).toBeLessThan(Date.parse(replanAt));
      expect(m.actionableAt).toBe(replanAt);
    }
  });

  it('a past-due milestone lastday had not run yet keeps being measured from when it became due', () => {
    // Workers were down: notice (Nov 27 17:00Z) is still open on Dec 1, when HR
    // moves the last day a week earlier. lastday was already late on it.
    const next = applyAt(
      planned(),
      ev({ eventId: 'earlier', lastDay: '2026-11-27', occurredAt: '2026-12-01T11:00:00Z' }),
      '2026-12-01T12:00:00Z',
    );
    expect(byName(next).notice).toMatchObject({ state: 'scheduled', actionableAt: PLAN_DEC_4.notice });
  });

  it('a replan keeps the earlier moment of a milestone that was already actionable', () => {
    // Planned late on Dec 3 (notice, reduce actionable then); a new event on Dec 3
    // 20:00Z moves the end time but not the past-due ones' actionability.
    const first = applyAt(undefined, ev({ eventId: 'late' }), '2026-12-03T18:00:00Z');
    const next = applyAt(
      first,
      ev({ eventId: 'later-end', endTime: '18:00', occurredAt: '2026-12-03T19:00:00Z' }),
      '2026-12-03T20:00:00Z',
    );
    expect(byName(next).reduce).toMatchObject({
      dueAt: PLAN_DEC_4.reduce,
      actionableAt: '2026-12-03T18:00:00Z',
    });
    expect(byName(next).revoke!.actionableAt).toBeUndefined();
  });

  it('a milestone moved back into the future is actionable at its instant again', () => {
    const late = applyAt(undefined, ev({ eventId: 'late' }), '2026-12-03T18:00:00Z');
    const extended = applyAt(
      late,
      ev({ eventId: 'extended', lastDay: '2026-12-18', occurredAt: '2026-12-03T19:00:00Z' }),
      '2026-12-03T20:00:00Z',
    );
    expect(extended.milestones.every((m) => m.actionableAt === undefined)).toBe(true);
  });

  it('a termination effective in the past is actionable when applied; one effective now is not late', () => {
    const when = '2026-12-10T12:00:00Z';
    const past = applyAt(
      undefined,
      ev({ eventId: 'fired-late', type: 'contract.terminated', effectiveAt: '2026-12-01T09:00:00Z' }),
      when,
    );
    expect(byName(past).revoke).toMatchObject({ dueAt: '2026-12-01T09:00:00Z', actionableAt: when });
    const now = applyAt(undefined, ev({ eventId: 'fired-now', type: 'contract.terminated' }), when);
    expect(now.milestones.every((m) => m.actionableAt === undefined)).toBe(true);
  });
});
