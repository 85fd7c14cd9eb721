/**
 * The timeline: pure functions from an HR event's dates and the policy to the
 * milestones' absolute instants. All wall-clock arithmetic happens in the
 * person's zone; results are UTC instants.
 */
import { DateTime } from 'luxon';
import { type BusinessCalendar, businessDaysBefore } from './businessDays.ts';
import { localToInstant } from './localTime.ts';
import type { MilestoneName } from './milestone.ts';

/**
 * What planning reads of a policy: the effective policy of a person's scope
 * (policyScope.ts), whose `holidays` already hold the calendar's dates.
 */
export interface TimelinePolicy extends BusinessCalendar {
  defaultEndTime: string;
  notice: { businessDays: number; at: string };
  reduce: { contractorBusinessDays: number; employeeBusinessDays: number; at: string };
  verifyAfterMinutes: number;
}

export interface PlannedMilestone {
  name: MilestoneName;
  /** UTC instant. */
  dueAt: DateTime;
}

export interface EndingInput {
  lastDay: string;
  endTime?: string | undefined;
  employment: 'contractor' | 'employee';
  timezone: string;
}

/**
 * Milestones for a known last day (`contract.ending`).
 *
 * An earlier milestone never lands after a later one: with a policy such as
 * `reduce.at` after midnight and 0 business days, `reduce` is pulled forward to
 * `freeze`. Privileges must never outlive the freeze.
 */
export function planEnding(input: EndingInput, policy: TimelinePolicy): PlannedMilestone[] {
  const zone = input.timezone;
  const endTime = input.endTime ?? policy.defaultEndTime;
  const reduceDays =
    input.employment === 'contractor'
      ? policy.reduce.contractorBusinessDays
      : policy.reduce.employeeBusinessDays;
  const noticeDate = businessDaysBefore(input.lastDay, policy.notice.businessDays, policy);
  const reduceDate = businessDaysBefore(input.lastDay, reduceDays, policy);

  const revoke = localToInstant(input.lastDay, endTime, zone);
  const freeze = min(localToInstant(input.lastDay, '00:00', zone), revoke);
  const reduce = min(localToInstant(reduceDate, policy.reduce.at, zone), freeze);
  const notice = min(localToInstant(noticeDate, policy.notice.at, zone), reduce);
  // Instants in UTC (localToInstant): a sum of milliseconds, without luxon's duration arithmetic.
  const verify = DateTime.fromMillis(revoke.toMillis() + Math.round(policy.verifyAfterMinutes * 60_000), {
    zone: 'utc',
  });
  return [
    { name: 'notice', dueAt: notice },
    { name: 'reduce', dueAt: reduce },
    { name: 'freeze', dueAt: freeze },
    { name: 'revoke', dueAt: revoke },
    { name: 'verify', dueAt: verify },
  ];
}

/** Milestones for `contract.terminated`: everything at `effectiveAt`, verify after. */
export function planTermination(
  effectiveAt: DateTime,
  policy: Pick<TimelinePolicy, 'verifyAfterMinutes'>,
): PlannedMilestone[] {
  const at = effectiveAt.toUTC();
  return [
    { name: 'reduce', dueAt: at },
    { name: 'freeze', dueAt: at },
    { name: 'revoke', dueAt: at },
    { name: 'verify', dueAt: at.plus({ milliseconds: Math.round(policy.verifyAfterMinutes * 60_000) }) },
  ];
}

function min(a: DateTime, b: DateTime): DateTime {
  return a <= b ? a : b;
}

/** Instants whose year has four digits, which Date and luxon write alike. */
const FOUR_DIGIT_YEARS = [Date.parse('0000-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59.999Z')];

/**
 * ISO-8601 UTC with `Z`, milliseconds dropped when zero. Date's own ISO form
 * where it is luxon's (four-digit years): written five times per planned
 * event, and luxon's formatter costs several times more.
 */
export function toIsoUtc(dt: DateTime): string {
  const ms = dt.toMillis();
  if (ms >= FOUR_DIGIT_YEARS[0]! && ms <= FOUR_DIGIT_YEARS[1]!) {
    const iso = new Date(ms).toISOString();
    return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
  }
  return dt.toUTC().toISO({ suppressMilliseconds: true })!;
}
