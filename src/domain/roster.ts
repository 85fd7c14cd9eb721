/**
 * Roster sync, the pure part: an HR roster (who leaves when) compared with
 * lastday's records gives the differences to turn into HR events.
 *
 * - A row with a `lastDay` lastday does not know, or whose `lastDay`,
 *   `endTime`, zone or employment differs from the current plan, or that
 *   puts the person in another policy scope (its `department` / `country`)
 *   → `added` / `changed` (a `contract.ending`). A row without `endTime`
 *   wants the default end time of the person's scope.
 * - A person whose current plan came from the roster (last applied event id
 *   starts with `roster-`), not yet revoked, whose row is gone (or has no
 *   `lastDay`) → `removed`. Only plans the roster introduced are retracted:
 *   an offboarding that arrived by webhook is never cancelled by a roster
 *   that simply does not list it, and a revoked person leaving the roster is normal.
 */
import { z } from 'zod';
import { countryCode } from './country.ts';
import type { Issue } from './errors.ts';
import { statusOf, type PersonRecord } from './person.ts';
import type { Policy } from './policy.ts';
import { DEFAULT_SCOPE, policyFor } from './policyScope.ts';
import { calendarDate, ianaZone, timeOfDay } from './wallClock.ts';
import { toIssues } from './zodIssues.ts';

/** Prefix of every event id roster sync emits. */
export const ROSTER_EVENT_PREFIX = 'roster-';

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());

/** One roster row. Extra columns are ignored (exports carry many). */
export const rosterRowSchema = z.object({
  id: z.string().min(1).max(200),
  email: optional(z.email().max(320)),
  name: optional(z.string().min(1).max(500)),
  employment: z.enum(['contractor', 'employee']),
  timezone: ianaZone,
  lastDay: optional(calendarDate),
  endTime: optional(timeOfDay),
  /** For policy scopes, as `person.department` / `person.country` in an HR event. */
  department: optional(z.string().min(1).max(200)),
  country: optional(countryCode),
  /** When HR last changed the row (ISO-8601 with offset); used as the event's occurredAt. */
  updatedAt: optional(z.iso.datetime({ offset: true })),
});

export type RosterRow = z.infer<typeof rosterRowSchema>;

export interface RosterParse {
  rows: RosterRow[];
  invalid: { index: number; id?: string; issues: Issue[] }[];
}

export function parseRosterRows(raw: readonly unknown[]): RosterParse {
  const out: RosterParse = { rows: [], invalid: [] };
  const seen = new Set<string>();
  raw.forEach((item, index) => {
    const parsed = rosterRowSchema.safeParse(item);
    const id = typeof (item as { id?: unknown })?.id === 'string' ? (item as { id: string }).id : undefined;
    if (!parsed.success) {
      out.invalid.push({ index, ...(id ? { id } : {}), issues: toIssues(parsed.error) });
    } else if (seen.has(parsed.data.id)) {
      out.invalid.push({ index, id: parsed.data.id, issues: [{ path: 'id', message: 'duplicate row' }] });
    } else {
      seen.add(parsed.data.id);
      out.rows.push(parsed.data);
    }
  });
  return out;
}

/** A row to send as `contract.ending`: `endTime` filled in, `endTimeDefaulted` when the row had none. */
export type WantedRow = RosterRow & { lastDay: string; endTime: string; endTimeDefaulted: boolean };

export type RosterChange =
  { kind: 'added' | 'changed'; row: WantedRow } | { kind: 'removed'; record: PersonRecord };

/** Differences for the rows of one batch; `records` holds lastday's records of those rows' people. */
export function diffRows(
  rows: readonly RosterRow[],
  records: ReadonlyMap<string, PersonRecord>,
  policy: Policy,
): RosterChange[] {
  const changes: RosterChange[] = [];
  for (const row of rows) {
    if (!row.lastDay) continue;
    const effective = policyFor(row, policy);
    const wanted: WantedRow = {
      ...row,
      lastDay: row.lastDay,
      endTime: row.endTime ?? effective.defaultEndTime,
      endTimeDefaulted: row.endTime === undefined,
    };
    const record = records.get(row.id);
    if (!record || record.kind === 'none') {
      changes.push({ kind: 'added', row: wanted });
      continue;
    }
    // A termination is HR's stronger word; a roster that lags behind it is not applied.
    if (record.kind === 'terminated' && !record.cancelled) continue;
    const same =
      !record.cancelled &&
      record.lastDay === wanted.lastDay &&
      normalizeTime(record.endTime ?? effective.defaultEndTime) === normalizeTime(wanted.endTime) &&
      record.person.timezone === row.timezone &&
      record.person.employment === row.employment &&
      // Another department or country matters when it changes the scope (a new plan).
      (record.policyScope ?? DEFAULT_SCOPE) === effective.scope;
    if (!same) changes.push({ kind: 'changed', row: wanted });
  }
  return changes;
}

/** Whether a record the roster no longer lists should be cancelled (see the module comment). */
export function isRemovalCandidate(record: PersonRecord, rosterIds: ReadonlySet<string>): boolean {
  if (rosterIds.has(record.person.id)) return false;
  if (!record.lastEvent.eventId.startsWith(ROSTER_EVENT_PREFIX)) return false;
  const status = statusOf(record);
  // Reinstated: nothing is planned, so there is nothing to cancel.
  return status !== 'cancelled' && status !== 'revoked' && status !== 'reinstated';
}

function normalizeTime(t: string): string {
  return t.length === 5 ? `${t}:00` : t;
}
