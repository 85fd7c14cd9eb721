/**
 * Policy scopes (contract section 6): which scope applies to a person, and the
 * effective policy their timeline is planned with.
 *
 * - Scopes are tried in order; the first whose `match` fields (`country`,
 *   `department`, `employment`) all equal the person's applies. None: the base
 *   policy, named `default`. A person without a country or department matches
 *   no scope that asks for one.
 * - A field the scope sets overrides the base policy's. Lists replace whole
 *   (`weekend`, `holidays`, `holidayTypes`); `notice` and `reduce` merge field
 *   by field (a scope's `reduce: {contractorBusinessDays: 5}` keeps the base's
 *   `employeeBusinessDays` and `at`); `holidayCalendar` replaces, and `null`
 *   turns the base's calendar off.
 * - The days business-day counting skips are the effective `holidays` plus the
 *   effective calendar's holidays of the effective `holidayTypes`.
 *
 * Each effective policy carries a fingerprint (`hash`) of everything that
 * shapes a plan, stored with the plan (PersonRecord.policyHash): a plan whose
 * hash differs from its scope's current one came from an older policy.
 */
import { canonicalJson, fingerprint } from './fingerprint.ts';
import type { PersonInfo } from './hrEvent.ts';
import type { HolidayType, Policy, Scope } from './policy.ts';
import type { TimelinePolicy } from './timeline.ts';

/** The name an effective policy has when no scope applies. */
export const DEFAULT_SCOPE = 'default';

export interface EffectivePolicy extends TimelinePolicy {
  /** The scope that applies, or `default`. */
  scope: string;
  /** The dates business days skip: explicit `holidays` and the calendar's. */
  holidays: ReadonlySet<string>;
  /** The explicit `holidays` in force (the scope's, else the base's). */
  explicitHolidays: readonly string[];
  holidayCalendar: string | null;
  holidayTypes: readonly HolidayType[];
  /** Fingerprint of what shapes a plan; the scope's name is not part of it. */
  hash: string;
}

/** The fields of a person that scopes match on. */
export type ScopedPerson = Pick<PersonInfo, 'employment' | 'country' | 'department'>;

interface Resolved {
  base: EffectivePolicy;
  scopes: { match: Scope['match']; effective: EffectivePolicy }[];
}

/**
 * Effective policies are worked out once per policy object (the config's is
 * built once per process): the holiday sets of a calendar run to hundreds of
 * dates, and planning runs per HR event.
 */
const resolvedCache = new WeakMap<Policy, Resolved>();

function resolve(policy: Policy): Resolved {
  let resolved = resolvedCache.get(policy);
  if (!resolved) {
    resolved = {
      base: effectiveOf(policy, undefined),
      scopes: policy.scopes.map((scope) => ({ match: scope.match, effective: effectiveOf(policy, scope) })),
    };
    resolvedCache.set(policy, resolved);
  }
  return resolved;
}

/** The effective policy for `person`: the first matching scope's, else the base's. */
export function policyFor(person: ScopedPerson, policy: Policy): EffectivePolicy {
  const resolved = resolve(policy);
  for (const scope of resolved.scopes) if (matches(scope.match, person)) return scope.effective;
  return resolved.base;
}

/** The effective policy of every scope by name, `default` included (for replanning and docs). */
export function effectivePolicies(policy: Policy): Map<string, EffectivePolicy> {
  const resolved = resolve(policy);
  return new Map([
    [DEFAULT_SCOPE, resolved.base],
    ...resolved.scopes.map((s) => [s.effective.scope, s.effective] as const),
  ]);
}

function matches(match: Scope['match'], person: ScopedPerson): boolean {
  return (
    (match.country === undefined || match.country === person.country) &&
    (match.department === undefined || match.department === person.department) &&
    (match.employment === undefined || match.employment === person.employment)
  );
}

function effectiveOf(policy: Policy, scope: Scope | undefined): EffectivePolicy {
  const explicitHolidays = scope?.holidays ?? policy.holidays;
  const holidayCalendar =
    scope?.holidayCalendar !== undefined ? scope.holidayCalendar : (policy.holidayCalendar ?? null);
  const holidayTypes = scope?.holidayTypes ?? policy.holidayTypes;
  const timeline = {
    defaultEndTime: scope?.defaultEndTime ?? policy.defaultEndTime,
    weekend: scope?.weekend ?? policy.weekend,
    notice: { ...policy.notice, ...definedFields(scope?.notice) },
    reduce: { ...policy.reduce, ...definedFields(scope?.reduce) },
    verifyAfterMinutes: scope?.verifyAfterMinutes ?? policy.verifyAfterMinutes,
  };

  const holidays = new Set(explicitHolidays);
  let calendarSource: string | null = null;
  if (holidayCalendar !== null) {
    const calendar = policy.calendars[holidayCalendar];
    if (!calendar) {
      // The config loader fills `calendars` for every code it accepts; a policy
      // built another way must not plan as if the country had no holidays.
      throw new Error(
        `holiday calendar ${holidayCalendar} is not loaded; load the policy through the config (src/config/holidays.ts)`,
      );
    }
    calendarSource = calendar.source;
    for (const day of calendar.days) if (holidayTypes.includes(day.type)) holidays.add(day.date);
  }

  const hash = fingerprint(
    canonicalJson({
      v: 1,
      ...timeline,
      weekend: sortedUnique(timeline.weekend),
      holidays: sortedUnique(explicitHolidays),
      calendar:
        holidayCalendar === null
          ? null
          : { code: holidayCalendar, types: sortedUnique(holidayTypes), source: calendarSource },
    }),
  );
  return {
    scope: scope?.name ?? DEFAULT_SCOPE,
    ...timeline,
    holidays,
    explicitHolidays,
    holidayCalendar,
    holidayTypes,
    hash,
  };
}

/** The fields of a partial object that are set (zod leaves absent optional fields out, but be sure). */
function definedFields<T extends object>(
  value: T | undefined,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

function sortedUnique<T extends string | number>(values: readonly T[]): T[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
