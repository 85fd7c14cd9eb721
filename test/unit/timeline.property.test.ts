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

const NUM_RUNS = Number(process.env.FC_RUNS ?? 200);
const ZONES = Intl.supportedValuesOf('timeZone');
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const pad = (n: number) => String(n).padStart(2, '0');
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

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

/** Day-by-day walk back from `date`, counting days that are neither weekend nor holiday. */
function oracleBusinessDaysBefore(date: string, count: number, weekend: number[], holidays: string[]) {
  let ms = Date.parse(date);
  for (let left = count; left > 0;) {
    ms -= DAY_MS;
    const isoWeekday = ((new Date(ms).getUTCDay() + 6) % 7) + 1;
    if (!weekend.includes(isoWeekday) && !holidays.includes(isoDate(ms))) left--;
  }
  return isoDate(ms);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset in minutes at `ms`, straight from Intl (not via luxon). */
function offsetMin(ms: number, zone: string): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** Offsets the zone uses within two days of `ms` (no offset lasts under 3 hours in 2020–2035). */
function nearbyOffsets(ms: number, zone: string): number[] {
  const out = new Set<number>();
  for (let t = ms - 48 * HOUR_MS; t <= ms + 48 * HOUR_MS; t += 3 * HOUR_MS) out.add(offsetMin(t, zone));
  return [...out];
}

/** Wall-clock time at `ms` in `zone`, read as if it were UTC. */
function wallMs(ms: number, zone: string): number {
  return ms + offsetMin(ms, zone) * 60_000;
}

function requestedWall(date: string, time: string): number {
  const [h, m, s] = time.split(':').map(Number) as [number, number, number | undefined];
  return Date.parse(date) + ((h * 60 + m) * 60 + (s ?? 0)) * 1000;
}

/**
 * Whether `ms` is where the contract puts `date time` in `zone`: the wall time
 * itself, and the earlier one if it exists twice; if it does not exist (a DST
 * gap), later than asked by no more than the gap.
 */
function landsOn(ms: number, date: string, time: string, zone: string): string | true {
  const want = requestedWall(date, time);
  const got = wallMs(ms, zone);
  const offsets = nearbyOffsets(ms, zone);
  const instantsWithWall = offsets
    .map((o) => want - o * 60_000)
    .filter((t) => offsetMin(t, zone) * 60_000 === want - t);
  if (got === want) {
    const earlier = instantsWithWall.filter((t) => t < ms);
    return (
      earlier.length === 0 ||
      `an earlier instant shows ${date} ${time}: ${new Date(earlier[0]!).toISOString()}`
    );
  }
  if (instantsWithWall.length > 0)
    return `wall time ${date} ${time} exists but got ${new Date(got).toISOString()}`;
  const gapMs = (Math.max(...offsets) - Math.min(...offsets)) * 60_000;
  if (got > want && got - want <= gapMs) return true;
  return `in a gap: got wall ${new Date(got).toISOString()} for ${date} ${time} (gap ${gapMs} ms)`;
}

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
        const reduceDate = oracleBusinessDaysBefore(c.lastDay, reduceDays, weekend, holidays);
        if (reduceDays === 0) {
          // reduce.at on the last day itself is at or after its midnight: pulled to freeze.
          expect(at.reduce).toBe(at.freeze);
        } else {
          expect(landsOn(at.reduce, reduceDate, c.policy.reduce.at, c.zone)).toBe(true);
        }

        const noticeDays = c.policy.notice.businessDays;
        const noticeDate = oracleBusinessDaysBefore(c.lastDay, noticeDays, weekend, holidays);
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

const transitions = new Map<string, string[]>();

/** Local dates in `year` on which the zone's offset changes. */
function transitionDates(zone: string, year: number): string[] {
  const key = `${zone}|${year}`;
  let dates = transitions.get(key);
  if (!dates) {
    dates = [];
    let prev = offsetMin(Date.UTC(year, 0, 1), zone);
    for (let t = Date.UTC(year, 0, 1) + 6 * HOUR_MS; t < Date.UTC(year + 1, 0, 1); t += 6 * HOUR_MS) {
      const o = offsetMin(t, zone);
      if (o !== prev) dates.push(isoDate(t + o * 60_000));
      prev = o;
    }
    transitions.set(key, dates);
  }
  return dates;
}
