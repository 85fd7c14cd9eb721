/**
 * Business-day arithmetic on calendar dates. A business day is a date whose ISO
 * weekday is not in the policy's weekend and that is not a policy holiday.
 * Dates are plain calendar dates; the zone only matters when a date is turned
 * into an instant (see localTime.ts).
 */
import { DateTime } from 'luxon';

export interface BusinessCalendar {
  weekend: readonly number[];
  holidays: readonly string[];
}

export function isBusinessDay(date: string, calendar: BusinessCalendar): boolean {
  const dt = DateTime.fromISO(date, { zone: 'utc' });
  return !calendar.weekend.includes(dt.weekday) && !calendar.holidays.includes(date);
}

/**
 * The date `count` business days before `date` (`date` itself excluded).
 * `count` 0 gives `date` itself, whatever day it is.
 */
export function businessDaysBefore(date: string, count: number, calendar: BusinessCalendar): string {
  if (calendar.weekend.length >= 7) throw new Error('a week needs at least one business day');
  let dt = DateTime.fromISO(date, { zone: 'utc' });
  let left = count;
  // Bounded: every week has a business day, and holidays are finite.
  for (let guard = 0; left > 0; guard++) {
    if (guard > 10_000) throw new Error('no business day found: too many holidays');
    dt = dt.minus({ days: 1 });
    if (isBusinessDay(dt.toISODate()!, calendar)) left--;
  }
  return dt.toISODate()!;
}
