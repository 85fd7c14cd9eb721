/**
 * Business-day arithmetic on calendar dates. A business day is a date whose ISO
 * weekday is not in the policy's weekend and that is not a policy holiday.
 * Dates are plain calendar dates; the zone only matters when a date is turned
 * into an instant (see localTime.ts).
 *
 * A calendar date is handled as its UTC midnight in plain `Date` arithmetic: UTC
 * has no DST, so a day is always 24 h there, and this runs on every planned HR
 * event (luxon objects per step cost far more, see docs/benchmarks.md).
 */

export interface BusinessCalendar {
  weekend: readonly number[];
  /** A set when there are many (a country calendar over years); a short list does as well. */
  holidays: ReadonlySet<string> | readonly string[];
}

const DAY_MS = 86_400_000;

/** UTC midnight of `YYYY-MM-DD` (years below 100 too, which `Date.UTC` would shift to 19xx). */
function dateToMs(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const at = new Date(0);
  at.setUTCFullYear(y, m - 1, d);
  return at.getTime();
}

function msToDate(ms: number): string {
  const at = new Date(ms);
  const y = at.getUTCFullYear();
  const year =
    y >= 0 && y <= 9999
      ? String(y).padStart(4, '0')
      : (y < 0 ? '-' : '+') + String(Math.abs(y)).padStart(6, '0');
  return `${year}-${String(at.getUTCMonth() + 1).padStart(2, '0')}-${String(at.getUTCDate()).padStart(2, '0')}`;
}

/** ISO weekday, 1 = Monday … 7 = Sunday. */
function isoWeekday(ms: number): number {
  return new Date(ms).getUTCDay() || 7;
}

/**
 * `date` is the date of `ms` when the caller has it; else it is written only
 * when there are holidays to look it up in (a weekday of an empty calendar
 * needs no text: this runs for every day a plan counts back).
 */
function isBusinessDayAt(ms: number, calendar: BusinessCalendar, date?: string): boolean {
  if (calendar.weekend.includes(isoWeekday(ms))) return false;
  const { holidays } = calendar;
  if ('has' in holidays ? holidays.size === 0 : holidays.length === 0) return true;
  const day = date ?? msToDate(ms);
  return !('has' in holidays ? holidays.has(day) : holidays.includes(day));
}

export function isBusinessDay(date: string, calendar: BusinessCalendar): boolean {
  return isBusinessDayAt(dateToMs(date), calendar, date);
}

/**
 * The date `count` business days before `date` (`date` itself excluded).
 * `count` 0 gives `date` itself, whatever day it is.
 */
export function businessDaysBefore(date: string, count: number, calendar: BusinessCalendar): string {
  if (calendar.weekend.length >= 7) throw new Error('a week needs at least one business day');
  if (count <= 0) return date;
  let ms = dateToMs(date);
  let left = count;
  // Bounded: every week has a business day, and holidays are finite.
  for (let guard = 0; left > 0; guard++) {
    if (guard > 10_000) throw new Error('no business day found: too many holidays');
    ms -= DAY_MS;
    if (isBusinessDayAt(ms, calendar)) left--;
  }
  return msToDate(ms);
}
