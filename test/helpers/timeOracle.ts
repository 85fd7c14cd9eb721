/**
 * An independent oracle for timeline tests: wall times from Intl (not luxon),
 * business days by a day-by-day walk, holidays of a country calendar read
 * straight from date-holidays' own start/end instants. Nothing here calls the
 * code under test.
 */
import { createRequire } from 'node:module';
import type HolidaysLib from 'date-holidays';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export const pad = (n: number) => String(n).padStart(2, '0');
export const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Day-by-day walk back from `date`, counting days that are neither weekend nor holiday. */
export function oracleBusinessDaysBefore(
  date: string,
  count: number,
  weekend: readonly number[],
  isHoliday: (date: string) => boolean,
): string {
  let ms = Date.parse(date);
  for (let left = count; left > 0;) {
    ms -= DAY_MS;
    const isoWeekday = ((new Date(ms).getUTCDay() + 6) % 7) + 1;
    if (!weekend.includes(isoWeekday) && !isHoliday(isoDate(ms))) left--;
  }
  return isoDate(ms);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset in minutes at `ms`, straight from Intl (not via luxon). */
export function offsetMin(ms: number, zone: string): number {
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
export function nearbyOffsets(ms: number, zone: string): number[] {
  const out = new Set<number>();
  for (let t = ms - 48 * HOUR_MS; t <= ms + 48 * HOUR_MS; t += 3 * HOUR_MS) out.add(offsetMin(t, zone));
  return [...out];
}

/** Wall-clock time at `ms` in `zone`, read as if it were UTC. */
export function wallMs(ms: number, zone: string): number {
  return ms + offsetMin(ms, zone) * 60_000;
}

export function requestedWall(date: string, time: string): number {
  const [h, m, s] = time.split(':').map(Number) as [number, number, number | undefined];
  return Date.parse(date) + ((h * 60 + m) * 60 + (s ?? 0)) * 1000;
}

/** An instant showing `date time` in `zone` (for times that exist once, such as noon). */
export function wallToInstant(date: string, time: string, zone: string): number {
  const want = requestedWall(date, time);
  let t = want - offsetMin(want, zone) * 60_000;
  t = want - offsetMin(t, zone) * 60_000;
  return t;
}

/**
 * Whether `ms` is where the contract puts `date time` in `zone`: the wall time
 * itself, and the earlier one if it exists twice; if it does not exist (a DST
 * gap), later than asked by no more than the gap.
 */
export function landsOn(ms: number, date: string, time: string, zone: string): string | true {
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

const transitions = new Map<string, string[]>();

/** Local dates in `year` on which the zone's offset changes. */
export function transitionDates(zone: string, year: number): string[] {
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

type Holidays = InstanceType<typeof HolidaysLib>;
const require = createRequire(import.meta.url);
const calendars = new Map<string, { hd: Holidays; zone: string }>();
const yearLists = new Map<string, ReturnType<Holidays['getHolidays']>>();

/**
 * Whether a holiday of one of `types` is in force at noon of `date` in the
 * calendar's zone — by the library's own start and end instants, with noon
 * found through Intl. The documented rule, computed another way than
 * src/config/holidays.ts does (no luxon, no per-day expansion).
 */
export function calendarHolidayAtNoon(code: string, date: string, types: readonly string[]): boolean {
  let cal = calendars.get(code);
  if (!cal) {
    const Holidays = require('date-holidays') as typeof HolidaysLib;
    const [country, state, region] = code.split('-') as [string, string?, string?];
    const hd = region
      ? new Holidays(country, state!, region)
      : state
        ? new Holidays(country, state)
        : new Holidays(country);
    cal = { hd, zone: hd.getTimezones()[0] ?? 'UTC' };
    calendars.set(code, cal);
  }
  const noon = wallToInstant(date, '12:00', cal.zone);
  const year = Number(date.slice(0, 4));
  for (const y of [year - 1, year]) {
    const key = `${code}|${y}`;
    let list = yearLists.get(key);
    if (!list) {
      list = cal.hd.getHolidays(y);
      yearLists.set(key, list);
    }
    for (const h of list) {
      if (types.includes(h.type) && h.start.getTime() <= noon && noon < h.end.getTime()) return true;
    }
  }
  return false;
}

/** The library's own answer for one instant (a cross-check of the oracle above). */
export function libraryIsHolidayAt(code: string, ms: number): { type: string }[] {
  calendarHolidayAtNoon(code, '2026-01-01', []); // builds the instance
  return calendars.get(code)!.hd.isHoliday(new Date(ms)) || [];
}

export function calendarZone(code: string): string {
  calendarHolidayAtNoon(code, '2026-01-01', []);
  return calendars.get(code)!.zone;
}
