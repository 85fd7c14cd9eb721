/**
 * Policy scopes and country calendars against an independent oracle, over
 * random zones, scopes, calendars and dates (2025–2035): an HR event applied
 * through the real domain path (applyHrEvent, with the policy loaded by the
 * config layer) lands every milestone on the local wall time the *oracle's*
 * choice of scope and business days names. The oracle picks the scope and
 * merges its fields by the contract's words, walks business days day by day,
 * and asks date-holidays itself whether a holiday is in force at noon (by the
 * library's start and end instants, noon found through Intl): none of it
 * calls policyScope.ts, businessDays.ts or src/config/holidays.ts.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { withCalendars } from '../../src/config/holidays.ts';
import { hrEventSchema } from '../../src/domain/hrEvent.ts';
import { applyHrEvent } from '../../src/domain/person.ts';
import { policySchema } from '../../src/domain/policy.ts';
import {
  calendarHolidayAtNoon,
  calendarZone,
  DAY_MS,
  isoDate,
  landsOn,
  libraryIsHolidayAt,
  oracleBusinessDaysBefore,
  pad,
  wallToInstant,
} from '../helpers/timeOracle.ts';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 150);
const ZONES = Intl.supportedValuesOf('timeZone');
/** Calendars with whole-day, regional, multi-day, sunset-to-sunset and afternoon-only holidays. */
const CALENDARS = ['DE', 'DE-BY', 'US', 'US-CA', 'GB-ENG', 'FR', 'JP', 'AE', 'IL', 'BR', 'AU-NSW', 'IN'];
const HOLIDAY_TYPES = ['public', 'bank', 'school', 'optional', 'observance'] as const;
const COUNTRIES = ['DE', 'US', 'FR', 'JP'];
const DEPARTMENTS = ['Finance', 'Sales', 'IT'];
/** The policy is loaded as in June 2026: calendars cover 2025–2036. */
const LOADED_AT = new Date('2026-06-01T00:00:00Z');

const timeArb = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${pad(h)}:${pad(m)}`);
const dateArb = fc
  .integer({ min: Date.UTC(2025, 5, 1), max: Date.UTC(2035, 11, 31) })
  .map((ms) => isoDate(Math.floor(ms / DAY_MS) * DAY_MS));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const typesArb = fc.subarray([...HOLIDAY_TYPES], { minLength: 1 });
const weekendArb = fc.subarray([1, 2, 3, 4, 5, 6, 7], { maxLength: 6 });
const holidaysNear = (lastDay: string) =>
  fc.array(
    fc.integer({ min: 0, max: 60 }).map((back) => isoDate(Date.parse(lastDay) - back * DAY_MS)),
    { maxLength: 6 },
  );

const scopeArb = (lastDay: string) =>
  fc.record(
    {
      match: fc
        .record(
          {
            country: fc.constantFrom(...COUNTRIES),
            department: fc.constantFrom(...DEPARTMENTS),
            employment: fc.constantFrom('contractor', 'employee'),
          },
          { requiredKeys: [] },
        )
        .filter((m) => Object.keys(m).length > 0),
      defaultEndTime: timeArb,
      weekend: weekendArb,
      holidays: holidaysNear(lastDay),
      holidayCalendar: fc.option(fc.constantFrom(...CALENDARS), { nil: null }),
      holidayTypes: typesArb,
      notice: fc.record({ businessDays: fc.integer({ min: 0, max: 15 }), at: timeArb }, { requiredKeys: [] }),
      reduce: fc.record(
        {
          contractorBusinessDays: fc.integer({ min: 0, max: 15 }),
          employeeBusinessDays: fc.integer({ min: 0, max: 15 }),
          at: timeArb,
        },
        { requiredKeys: [] },
      ),
      verifyAfterMinutes: fc.integer({ min: 0, max: 600 }),
    },
    { requiredKeys: ['match'] },
  );

const caseArb = dateArb.chain((lastDay) =>
  fc.record({
    lastDay: fc.constant(lastDay),
    zone: fc.constantFrom(...ZONES),
    endTime: maybe(timeArb),
    person: fc.record({
      employment: fc.constantFrom('contractor' as const, 'employee' as const),
      country: maybe(fc.constantFrom(...COUNTRIES)),
      department: maybe(fc.constantFrom(...DEPARTMENTS)),
    }),
    base: fc.record({
      defaultEndTime: timeArb,
      weekend: weekendArb,
      holidays: holidaysNear(lastDay),
      holidayCalendar: maybe(fc.constantFrom(...CALENDARS)),
      holidayTypes: typesArb,
      notice: fc.record({ businessDays: fc.integer({ min: 0, max: 15 }), at: timeArb }),
      reduce: fc.record({
        contractorBusinessDays: fc.integer({ min: 0, max: 15 }),
        employeeBusinessDays: fc.integer({ min: 0, max: 15 }),
        at: timeArb,
      }),
      verifyAfterMinutes: fc.integer({ min: 0, max: 600 }),
    }),
    scopes: fc.array(scopeArb(lastDay), { maxLength: 4 }),
  }),
);

type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

/** The contract's words, computed plainly: first scope whose given match fields all equal the person's. */
function oracleEffective(c: Case) {
  const index = c.scopes.findIndex((s) =>
    Object.entries(s.match).every(([k, v]) => (c.person as Record<string, unknown>)[k] === v),
  );
  const s = index >= 0 ? c.scopes[index]! : undefined;
  const b = c.base;
  const calendar = s && 'holidayCalendar' in s ? (s.holidayCalendar ?? null) : (b.holidayCalendar ?? null);
  const types = s?.holidayTypes ?? b.holidayTypes;
  const explicit = s?.holidays ?? b.holidays;
  return {
    scope: index >= 0 ? `s${index}` : 'default',
    defaultEndTime: s?.defaultEndTime ?? b.defaultEndTime,
    weekend: s?.weekend ?? b.weekend,
    isHoliday: (date: string) =>
      explicit.includes(date) || (calendar !== null && calendarHolidayAtNoon(calendar, date, types)),
    notice: { ...b.notice, ...s?.notice },
    reduce: { ...b.reduce, ...s?.reduce },
    verifyAfterMinutes: s?.verifyAfterMinutes ?? b.verifyAfterMinutes,
  };
}

function loadPolicy(c: Case) {
  const raw = { ...c.base, scopes: c.scopes.map((s, i) => ({ name: `s${i}`, ...s })) };
  return withCalendars(policySchema.parse(raw), LOADED_AT);
}

describe('policy scopes and calendars, against an oracle', () => {
  it(`the oracle's scope, business days and wall times, through applyHrEvent (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const policy = loadPolicy(c);
        const event = hrEventSchema.parse({
          eventId: 'e-1',
          type: 'contract.ending',
          occurredAt: '2025-01-01T00:00:00Z',
          person: { id: 'p-1', timezone: c.zone, ...dropUndefined(c.person) },
          lastDay: c.lastDay,
          ...(c.endTime ? { endTime: c.endTime } : {}),
        });
        const result = applyHrEvent(undefined, event, policy, DateTime.fromISO('2025-01-01T00:00:00Z'));
        if (result.outcome !== 'applied') throw new Error(result.reason);
        const want = oracleEffective(c);
        expect(result.record.policyScope).toBe(want.scope);

        const at = Object.fromEntries(result.record.milestones.map((m) => [m.name, Date.parse(m.dueAt)]));
        const endTime = c.endTime ?? want.defaultEndTime;
        expect(landsOn(at.revoke!, c.lastDay, endTime, c.zone)).toBe(true);
        expect(landsOn(at.freeze!, c.lastDay, '00:00', c.zone)).toBe(true);
        expect(at.verify! - at.revoke!).toBe(want.verifyAfterMinutes * 60_000);

        const reduceDays =
          c.person.employment === 'contractor'
            ? want.reduce.contractorBusinessDays
            : want.reduce.employeeBusinessDays;
        const reduceDate = oracleBusinessDaysBefore(c.lastDay, reduceDays, want.weekend, want.isHoliday);
        const reduceOnTime = landsOn(at.reduce!, reduceDate, want.reduce.at, c.zone);
        // reduce is pulled to freeze when its own instant would be later (0 days, or `at` past midnight).
        if (reduceDays > 0) expect(reduceOnTime).toBe(true);
        else expect(at.reduce).toBe(at.freeze);

        const noticeDate = oracleBusinessDaysBefore(
          c.lastDay,
          want.notice.businessDays,
          want.weekend,
          want.isHoliday,
        );
        const noticeOnTime = landsOn(at.notice!, noticeDate, want.notice.at, c.zone);
        if (want.notice.businessDays > reduceDays) expect(noticeOnTime).toBe(true);
        else expect(noticeOnTime === true || at.notice === at.reduce).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the oracle agrees with date-holidays asked directly at noon', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CALENDARS), dateArb, (code, date) => {
        const noon = wallToInstant(date, '12:00', calendarZone(code));
        const types = libraryIsHolidayAt(code, noon).map((h) => h.type);
        for (const type of HOLIDAY_TYPES) {
          expect(calendarHolidayAtNoon(code, date, [type])).toBe(types.includes(type));
        }
      }),
      { numRuns: 60 },
    );
  });
});

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
