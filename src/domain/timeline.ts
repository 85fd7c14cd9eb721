/**
 * The timeline: pure functions from an HR event's dates and the policy to the
 * milestones' absolute instants. All wall-clock arithmetic happens in the
 * person's zone; results are UTC instants.
 */
import type { DateTime } from 'luxon';
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
  const verify = revoke.plus({ milliseconds: Math.round(policy.verifyAfterMinutes * 60_000) });
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

/** ISO-8601 UTC with `Z`, milliseconds dropped when zero. */
export function toIsoUtc(dt: DateTime): string {
  return dt.toUTC().toISO({ suppressMilliseconds: true })!;
}
