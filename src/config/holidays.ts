/**
 * Country holiday calendars for the policy (`holidayCalendar: "DE-BY"` in the
 * base policy or a scope), from date-holidays, a maintained library with
 * public, bank, school, optional and observance days for ~200 countries and
 * their states and regions. Its rules (Easter, lunar calendars, substitute
 * days) are far more than lastday should maintain by hand.
 *
 * The domain never calls it: when the config is loaded, each named calendar is
 * checked (an unknown code stops start-up, naming the field) and turned into
 * dates for a range of years, which the policy carries as `calendars`
 * (src/domain/policy.ts). The library does no I/O (its data is bundled), but
 * it is large (~250 ms to load), so it is required only when a config names a
 * calendar: `--help` and configs without one never load it.
 */
import { createRequire } from 'node:module';
import type HolidaysLib from 'date-holidays';
import { DateTime } from 'luxon';
import type { z } from 'zod';
import {
  type CalendarTable,
  HOLIDAY_TYPES,
  type HolidayType,
  type LoadedCalendar,
  type Policy,
} from '../domain/policy.ts';

/**
 * Years loaded around the year the config is loaded in: last year (a late
 * event's business days reach back) to ten years ahead. A process running
 * longer than that, or a last day outside, plans with explicit holidays only;
 * a restart loads the years around its own date.
 */
export const CALENDAR_YEARS = { back: 1, ahead: 10 } as const;

type HolidaysClass = typeof HolidaysLib;

let library: { Holidays: HolidaysClass; source: string } | undefined;

/** Loads date-holidays on first use (see the module header). */
function holidaysLibrary(): { Holidays: HolidaysClass; source: string } {
  if (!library) {
    const require = createRequire(import.meta.url);
    const Holidays = require('date-holidays') as HolidaysClass;
    const { version } = require('date-holidays/package.json') as { version: string };
    library = { Holidays, source: `date-holidays@${version}` };
  }
  return library;
}

/**
 * Why the library does not know `code`, or undefined when it does. Codes are
 * the library's spelling: country upper case, then state and region as it
 * lists them (`DE-BY`, `DE-BY-A`, `CK-Rarotonga`).
 */
export function calendarCodeProblem(code: string): string | undefined {
  const { Holidays } = holidaysLibrary();
  const hd = new Holidays();
  const [country = '', state, region] = code.split('-');
  const countries = hd.getCountries('en') ?? {};
  if (!(country in countries))
    return `unknown holiday calendar "${code}": no calendar for country ${country}`;
  if (state === undefined) return undefined;
  const states = hd.getStates(country, 'en') ?? {};
  if (!(state in states)) {
    return unknownPart(code, `state of ${country}`, state, Object.keys(states), (s) => `${country}-${s}`);
  }
  if (region === undefined) return undefined;
  const regions = hd.getRegions(country, state, 'en') ?? {};
  if (!(region in regions)) {
    const what = `region of ${country}-${state}`;
    return unknownPart(code, what, region, Object.keys(regions), (r) => `${country}-${state}-${r}`);
  }
  return undefined;
}

function unknownPart(
  code: string,
  what: string,
  part: string,
  known: string[],
  spell: (near: string) => string,
): string {
  const near = known.find((k) => k.toLowerCase() === part.toLowerCase());
  if (near) return `unknown holiday calendar "${code}": did you mean "${spell(near)}"?`;
  if (known.length === 0) return `unknown holiday calendar "${code}": there is no ${what}`;
  const list = known.length > 40 ? `${known.slice(0, 40).join(', ')}, …` : known.join(', ');
  return `unknown holiday calendar "${code}": no ${what} "${part}" (known: ${list})`;
}

const cache = new Map<string, LoadedCalendar>();

/**
 * The holidays of `code` (every type, each with its type) for the years
 * `fromYear`..`toYear`. A date counts when the holiday is in force at noon
 * that day in the calendar's own zone (the library's first zone for the
 * country): whole-day holidays count, each day of a multi-day one (three days
 * of Eid) counts, a holiday from the evening before (Jewish and Islamic days
 * begin at sunset) counts for its own day, and an afternoon-only one (24
 * December from 14:00, a `bank` day in Germany) does not — list such a date
 * in `holidays` if it should.
 */
export function loadCalendar(code: string, fromYear: number, toYear: number): LoadedCalendar {
  const key = `${code}|${fromYear}|${toYear}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const { Holidays, source } = holidaysLibrary();
  const [country = '', state, region] = code.split('-');
  const hd =
    region !== undefined
      ? new Holidays(country, state!, region)
      : state !== undefined
        ? new Holidays(country, state)
        : new Holidays(country);
  const zone = hd.getTimezones()?.[0] ?? 'UTC';
  const days: { date: string; type: HolidayType }[] = [];
  for (let year = fromYear; year <= toYear; year++) {
    for (const holiday of hd.getHolidays(year) ?? []) {
      if (!(HOLIDAY_TYPES as readonly string[]).includes(holiday.type)) continue;
      for (const date of datesInForceAtNoon(holiday.start, holiday.end, zone)) {
        days.push({ date, type: holiday.type });
      }
    }
  }
  const loaded: LoadedCalendar = { source, fromYear, toYear, days };
  cache.set(key, loaded);
  return loaded;
}

/** Local dates in `zone` whose noon lies in [start, end). */
function datesInForceAtNoon(start: Date, end: Date, zone: string): string[] {
  const out: string[] = [];
  const endMs = end.getTime();
  const startMs = start.getTime();
  let day = DateTime.fromJSDate(start, { zone }).startOf('day');
  // Bounded by the holiday's length (the longest are a few days).
  for (let guard = 0; day.toMillis() < endMs && guard < 400; guard++) {
    const noon = day.set({ hour: 12 }).toMillis();
    if (noon >= startMs && noon < endMs) out.push(day.toISODate()!);
    day = day.plus({ days: 1 });
  }
  return out;
}

/** Every calendar code a policy names, with where (for error messages). */
function namedCalendars(policy: Policy): { code: string; path: (string | number)[] }[] {
  const out: { code: string; path: (string | number)[] }[] = [];
  if (policy.holidayCalendar) out.push({ code: policy.holidayCalendar, path: ['holidayCalendar'] });
  policy.scopes.forEach((scope, i) => {
    if (scope.holidayCalendar)
      out.push({ code: scope.holidayCalendar, path: ['scopes', i, 'holidayCalendar'] });
  });
  return out;
}

/** zod refinement of the parsed policy: every named calendar exists. */
export function checkCalendars(policy: Policy, ctx: z.core.$RefinementCtx<Policy>): void {
  for (const { code, path } of namedCalendars(policy)) {
    const problem = calendarCodeProblem(code);
    if (problem) ctx.addIssue({ code: 'custom', path, message: problem });
  }
}

/** The policy with the dates of every calendar it names, for the years around `now`. */
export function withCalendars(policy: Policy, now: Date = new Date()): Policy {
  const named = namedCalendars(policy);
  if (named.length === 0) return policy;
  const year = now.getUTCFullYear();
  const calendars: Record<string, LoadedCalendar> = {};
  for (const { code } of named) {
    calendars[code] ??= loadCalendar(code, year - CALENDAR_YEARS.back, year + CALENDAR_YEARS.ahead);
  }
  return { ...policy, calendars: calendars as CalendarTable };
}
