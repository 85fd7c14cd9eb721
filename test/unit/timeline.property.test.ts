/**
 * Properties of the timeline over random zones, dates (2020–2035) and
 * policies: milestones never run out of order, and each lands on the local
 * wall time the policy names. The oracles here are written independently of
 * the implementation (day-by-day business-day walk, offsets sampled from Intl).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policySchema } from '../../src/domain/policy.ts';
import { planEnding } from '../../src/domain/timeline.ts';
import {
  DAY_MS,
  isoDate,
  landsOn,
  oracleBusinessDaysBefore,
  pad,
  transitionDates,
} from '../helpers/timeOracle.ts';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 200);
const ZONES = Intl.supportedValuesOf('timeZone');

const dateArb = fc
  .integer({ min: Date.UTC(2020, 0, 15), max: Date.UTC(2035, 11, 31) })
  .map((ms) => isoDate(Math.floor(ms / DAY_MS) * DAY_MS));
const timeArb = fc
  .tuple(
    fc.integer({ min: 0, max: 23 }),
    fc.integer({ min: 0, max: 59 }),
    fc.option(fc.integer({ min: 0, max: 59 })),
  )
  .map(([h, m, s]) => (s === null ? `${pad(h)}:${pad(m)}` : `${pad(h)}:${pad(m)}:${pad(s)}`));
/** Times in the small hours hit DST gaps and overlaps far more often. */
const smallHoursArb = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${pad(h)}:${pad(m)}`);
const anyTimeArb = fc.oneof(timeArb, smallHoursArb);

const caseArb = dateArb.chain((lastDay) =>
  fc.record({
    lastDay: fc.constant(lastDay),
    zone: fc.constantFrom(...ZONES),
    employment: fc.constantFrom('contractor' as const, 'employee' as const),
    endTime: fc.option(anyTimeArb, { nil: undefined }),
    policy: fc.record({
      defaultEndTime: anyTimeArb,
      weekend: fc.subarray([1, 2, 3, 4, 5, 6, 7], { maxLength: 6 }),
      holidays: fc.array(
        fc.integer({ min: 0, max: 40 }).map((back) => isoDate(Date.parse(lastDay) - back * DAY_MS)),
        { maxLength: 8 },
      ),
      notice: fc.record({ businessDays: fc.integer({ min: 0, max: 10 }), at: anyTimeArb }),
      reduce: fc.record({
        contractorBusinessDays: fc.integer({ min: 0, max: 10 }),
        employeeBusinessDays: fc.integer({ min: 0, max: 10 }),
        at: anyTimeArb,
      }),
      verifyAfterMinutes: fc.integer({ min: 0, max: 24 * 60 }),
    }),
  }),
);

describe('timeline properties', () => {
  it(`milestones are ordered and land on their local wall times (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const policy = policySchema.parse(c.policy);
        const planned = planEnding(
          { lastDay: c.lastDay, endTime: c.endTime, employment: c.employment, timezone: c.zone },
          policy,
        );
        const at = Object.fromEntries(planned.map((m) => [m.name, m.dueAt.toMillis()])) as Record<
          'notice' | 'reduce' | 'freeze' | 'revoke' | 'verify',
          number
        >;
        expect(planned.map((m) => m.name)).toEqual(['notice', 'reduce', 'freeze', 'revoke', 'verify']);
        expect(at.notice).toBeLessThanOrEqual(at.reduce);
        expect(at.reduce).toBeLessThanOrEqual(at.freeze);
        expect(at.freeze).toBeLessThanOrEqual(at.revoke);
        expect(at.revoke).toBeLessThanOrEqual(at.verify);
        expect(at.verify - at.revoke).toBe(c.policy.verifyAfterMinutes * 60_000);

        const endTime = c.endTime ?? c.policy.defaultEndTime;
        expect(landsOn(at.revoke, c.lastDay, endTime, c.zone)).toBe(true);
        expect(landsOn(at.freeze, c.lastDay, '00:00', c.zone)).toBe(true);

        const reduceDays =
          c.employment === 'contractor'
            ? c.policy.reduce.contractorBusinessDays
            : c.policy.reduce.employeeBusinessDays;
        const { weekend, holidays } = c.policy;
        const reduceDate = oracleBusinessDaysBefore(c.lastDay, reduceDays, weekend, (d) =>
          holidays.includes(d),
        );
        if (reduceDays === 0) {
          // reduce.at on the last day itself is at or after its midnight: pulled to freeze.
          expect(at.reduce).toBe(at.freeze);
        } else {
          expect(landsOn(at.reduce, reduceDate, c.policy.reduce.at, c.zone)).toBe(true);
        }

        const noticeDays = c.policy.notice.businessDays;
        const noticeDate = oracleBusinessDaysBefore(c.lastDay, noticeDays, weekend, (d) =>
          holidays.includes(d),
        );
        const noticeOnTime = landsOn(at.notice, noticeDate, c.policy.notice.at, c.zone);
        if (noticeDays > reduceDays) expect(noticeOnTime).toBe(true);
        else expect(noticeOnTime === true || at.notice === at.reduce).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('small-hours wall times on DST change days: gaps move forward, overlaps take the earlier instant', () => {
    const dstZones = [
      'America/Los_Angeles',
      'Europe/Berlin',
      'Australia/Melbourne',
      'America/Santiago',
      'Australia/Lord_Howe',
      'America/Havana',
    ];
    const changeDay = fc
      .tuple(
        fc.constantFrom(...dstZones),
        fc.integer({ min: 2020, max: 2035 }),
        fc.nat(),
        fc.integer({ min: -1, max: 1 }),
      )
      .filter(([zone, year]) => transitionDates(zone, year).length > 0)
      .map(([zone, year, pick, shift]) => {
        const dates = transitionDates(zone, year);
        return { zone, lastDay: isoDate(Date.parse(dates[pick % dates.length]!) + shift * DAY_MS) };
      });
    fc.assert(
      fc.property(changeDay, smallHoursArb, ({ zone, lastDay }, endTime) => {
        const planned = planEnding(
          { lastDay, endTime, employment: 'employee', timezone: zone },
          policySchema.parse({}),
        );
        const revoke = planned.find((m) => m.name === 'revoke')!.dueAt.toMillis();
        const freeze = planned.find((m) => m.name === 'freeze')!.dueAt.toMillis();
        expect(landsOn(revoke, lastDay, endTime, zone)).toBe(true);
        expect(landsOn(freeze, lastDay, '00:00', zone)).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
