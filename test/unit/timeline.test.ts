/**
 * The timeline in real zones, with exact UTC instants worked out by hand from
 * the zones' offsets on those dates (contract section 3). No Redis, no clock:
 * planning is a pure function of the event's dates and the policy.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { localToInstant } from '../../src/domain/localTime.ts';
import type { MilestoneName } from '../../src/domain/milestone.ts';
import { defaultPolicy, type Policy, policySchema } from '../../src/domain/policy.ts';
import { type EndingInput, planEnding, planTermination, toIsoUtc } from '../../src/domain/timeline.ts';

function policy(overrides: Record<string, unknown> = {}): Policy {
  return policySchema.parse(overrides);
}

function plan(input: Partial<EndingInput> & { lastDay: string }, p: Policy = defaultPolicy) {
  const planned = planEnding({ employment: 'contractor', timezone: 'America/Los_Angeles', ...input }, p);
  return Object.fromEntries(planned.map((m) => [m.name, toIsoUtc(m.dueAt)])) as Record<MilestoneName, string>;
}

describe('planEnding in real zones (default policy)', () => {
  it('America/Los_Angeles, contractor, Friday last day (PST, UTC-8)', () => {
    expect(plan({ lastDay: '2026-12-04' })).toEqual({
      notice: '2026-11-27T17:00:00Z',
      reduce: '2026-12-02T17:00:00Z',
      freeze: '2026-12-04T08:00:00Z',
      revoke: '2026-12-05T01:00:00Z',
      verify: '2026-12-05T02:00:00Z',
    });
  });

  it('Europe/Berlin, employee, summer time (CEST, UTC+2), endTime 18:30', () => {
    expect(
      plan({ lastDay: '2026-06-30', endTime: '18:30', employment: 'employee', timezone: 'Europe/Berlin' }),
    ).toEqual({
      notice: '2026-06-23T07:00:00Z',
      reduce: '2026-06-29T07:00:00Z',
      freeze: '2026-06-29T22:00:00Z',
      revoke: '2026-06-30T16:30:00Z',
      verify: '2026-06-30T17:30:00Z',
    });
  });

  it('Asia/Kolkata, contractor (IST, UTC+5:30, half-hour offset)', () => {
    expect(plan({ lastDay: '2026-07-15', timezone: 'Asia/Kolkata' })).toEqual({
      notice: '2026-07-08T03:30:00Z',
      reduce: '2026-07-13T03:30:00Z',
      freeze: '2026-07-14T18:30:00Z',
      revoke: '2026-07-15T11:30:00Z',
      verify: '2026-07-15T12:30:00Z',
    });
  });

  it('Australia/Melbourne, employee, southern summer (AEDT, UTC+11)', () => {
    expect(plan({ lastDay: '2026-12-04', employment: 'employee', timezone: 'Australia/Melbourne' })).toEqual({
      notice: '2026-11-26T22:00:00Z',
      reduce: '2026-12-02T22:00:00Z',
      freeze: '2026-12-03T13:00:00Z',
      revoke: '2026-12-04T06:00:00Z',
      verify: '2026-12-04T07:00:00Z',
    });
  });

  it('Australia/Melbourne, southern winter (AEST, UTC+10)', () => {
    expect(plan({ lastDay: '2026-07-15', timezone: 'Australia/Melbourne' }).revoke).toBe(
      '2026-07-15T07:00:00Z',
    );
  });

  it('Pacific/Kiritimati, contractor (UTC+14: the local day starts the UTC day before)', () => {
    expect(plan({ lastDay: '2026-12-04', timezone: 'Pacific/Kiritimati' })).toEqual({
      notice: '2026-11-26T19:00:00Z',
      reduce: '2026-12-01T19:00:00Z',
      freeze: '2026-12-03T10:00:00Z',
      revoke: '2026-12-04T03:00:00Z',
      verify: '2026-12-04T04:00:00Z',
    });
  });
});

describe('DST transitions', () => {
  it('spring gap, Los Angeles: 02:30 on 2026-03-08 does not exist and moves forward by the hour', () => {
    const p = plan({ lastDay: '2026-03-08', endTime: '02:30' });
    expect(p.revoke).toBe('2026-03-08T10:30:00Z');
    expect(DateTime.fromISO(p.revoke).setZone('America/Los_Angeles').toFormat('HH:mm')).toBe('03:30');
    expect(p.freeze).toBe('2026-03-08T08:00:00Z');
    expect(p.verify).toBe('2026-03-08T11:30:00Z');
  });

  it('spring gap, Berlin: 02:30 on 2026-03-29 → 03:30 CEST', () => {
    expect(plan({ lastDay: '2026-03-29', endTime: '02:30', timezone: 'Europe/Berlin' }).revoke).toBe(
      '2026-03-29T01:30:00Z',
    );
  });

  it('spring gap, Melbourne: 02:30 on 2026-10-04 → 03:30 AEDT', () => {
    expect(plan({ lastDay: '2026-10-04', endTime: '02:30', timezone: 'Australia/Melbourne' }).revoke).toBe(
      '2026-10-03T16:30:00Z',
    );
  });

  it('fall-back overlap, Los Angeles: 01:30 on 2026-11-01 takes the earlier (PDT) instant', () => {
    expect(plan({ lastDay: '2026-11-01', endTime: '01:30' }).revoke).toBe('2026-11-01T08:30:00Z');
  });

  it('fall-back overlap, Berlin: 02:30 on 2026-10-25 takes the earlier (CEST) instant', () => {
    expect(plan({ lastDay: '2026-10-25', endTime: '02:30', timezone: 'Europe/Berlin' }).revoke).toBe(
      '2026-10-25T00:30:00Z',
    );
  });

  it('fall-back overlap, Melbourne: 02:30 on 2026-04-05 takes the earlier (AEDT) instant', () => {
    expect(plan({ lastDay: '2026-04-05', endTime: '02:30', timezone: 'Australia/Melbourne' }).revoke).toBe(
      '2026-04-04T15:30:00Z',
    );
  });

  it('times just outside the transitions are untouched', () => {
    expect(toIsoUtc(localToInstant('2026-03-08', '01:59:59', 'America/Los_Angeles'))).toBe(
      '2026-03-08T09:59:59Z',
    );
    expect(toIsoUtc(localToInstant('2026-03-08', '03:00', 'America/Los_Angeles'))).toBe(
      '2026-03-08T10:00:00Z',
    );
    expect(toIsoUtc(localToInstant('2026-11-01', '02:00', 'America/Los_Angeles'))).toBe(
      '2026-11-01T10:00:00Z',
    );
    expect(toIsoUtc(localToInstant('2026-11-01', '00:59', 'America/Los_Angeles'))).toBe(
      '2026-11-01T07:59:00Z',
    );
  });
});

describe('business days', () => {
  it('lastDay on a Monday: contractor reduce on the previous Thursday 09:00', () => {
    expect(plan({ lastDay: '2026-12-07' }).reduce).toBe('2026-12-03T17:00:00Z');
  });

  it('lastDay on a Monday: employee reduce (1 business day) on the previous Friday 09:00', () => {
    expect(plan({ lastDay: '2026-12-07', employment: 'employee' }).reduce).toBe('2026-12-04T17:00:00Z');
  });

  it('holidays are skipped', () => {
    const p = policy({ holidays: ['2026-12-25'] });
    expect(plan({ lastDay: '2026-12-28', employment: 'employee' }, p).reduce).toBe('2026-12-24T17:00:00Z');
    const c = plan({ lastDay: '2026-12-28' }, p);
    expect(c.reduce).toBe('2026-12-23T17:00:00Z');
    expect(c.notice).toBe('2026-12-18T17:00:00Z');
    // Without the holiday, Friday the 25th counts.
    expect(plan({ lastDay: '2026-12-28', employment: 'employee' }).reduce).toBe('2026-12-25T17:00:00Z');
  });

  it('a custom weekend (Friday, Saturday)', () => {
    const p = policy({ weekend: [5, 6] });
    // lastDay Sunday 2026-12-06 is a working day there; Thursday is the one before.
    expect(plan({ lastDay: '2026-12-06', employment: 'employee', timezone: 'Asia/Dubai' }, p).reduce).toBe(
      '2026-12-03T05:00:00Z',
    );
    expect(plan({ lastDay: '2026-12-06', timezone: 'Asia/Dubai' }, p).reduce).toBe('2026-12-02T05:00:00Z');
  });

  it('custom business-day counts and times', () => {
    const p = policy({
      notice: { businessDays: 10, at: '08:15' },
      reduce: { contractorBusinessDays: 3, employeeBusinessDays: 2, at: '12:00:30' },
    });
    const c = plan({ lastDay: '2026-12-04' }, p);
    expect(c.notice).toBe('2026-11-20T16:15:00Z');
    expect(c.reduce).toBe('2026-12-01T20:00:30Z');
    expect(plan({ lastDay: '2026-12-04', employment: 'employee' }, p).reduce).toBe('2026-12-02T20:00:30Z');
  });

  it('0 business days with reduce.at after midnight: reduce is pulled to freeze, never after it', () => {
    const p = policy({ reduce: { employeeBusinessDays: 0 }, notice: { businessDays: 0 } });
    const e = plan({ lastDay: '2026-12-04', employment: 'employee' }, p);
    expect(e.reduce).toBe('2026-12-04T08:00:00Z');
    expect(e.notice).toBe('2026-12-04T08:00:00Z');
    expect(e.freeze).toBe('2026-12-04T08:00:00Z');
  });

  it('endTime 00:00: revoke at the start of the last day, freeze with it', () => {
    const p = plan({ lastDay: '2026-12-04', endTime: '00:00' });
    expect(p.freeze).toBe('2026-12-04T08:00:00Z');
    expect(p.revoke).toBe('2026-12-04T08:00:00Z');
  });
});

describe('endTime and verify', () => {
  it('endTime defaults to 17:00, or to policy.defaultEndTime', () => {
    expect(plan({ lastDay: '2026-12-04' }).revoke).toBe('2026-12-05T01:00:00Z');
    expect(plan({ lastDay: '2026-12-04' }, policy({ defaultEndTime: '12:00' })).revoke).toBe(
      '2026-12-04T20:00:00Z',
    );
  });

  it('endTime with seconds', () => {
    expect(plan({ lastDay: '2026-12-04', endTime: '16:59:30' }).revoke).toBe('2026-12-05T00:59:30Z');
  });

  it('verifyAfterMinutes moves verify', () => {
    expect(plan({ lastDay: '2026-12-04' }, policy({ verifyAfterMinutes: 15 })).verify).toBe(
      '2026-12-05T01:15:00Z',
    );
    expect(plan({ lastDay: '2026-12-04' }, policy({ verifyAfterMinutes: 0 })).verify).toBe(
      '2026-12-05T01:00:00Z',
    );
  });
});

describe('planTermination', () => {
  it('reduce, freeze and revoke at effectiveAt; verify 60 minutes later', () => {
    const planned = planTermination(
      DateTime.fromISO('2026-12-04T15:00:00-08:00', { setZone: true }),
      defaultPolicy,
    );
    expect(planned.map((m) => [m.name, toIsoUtc(m.dueAt)])).toEqual([
      ['reduce', '2026-12-04T23:00:00Z'],
      ['freeze', '2026-12-04T23:00:00Z'],
      ['revoke', '2026-12-04T23:00:00Z'],
      ['verify', '2026-12-05T00:00:00Z'],
    ]);
  });

  it('verifyAfterMinutes applies to terminations too', () => {
    const planned = planTermination(
      DateTime.fromISO('2026-12-04T23:00:00Z'),
      policy({ verifyAfterMinutes: 15 }),
    );
    expect(toIsoUtc(planned.find((m) => m.name === 'verify')!.dueAt)).toBe('2026-12-04T23:15:00Z');
  });
});
