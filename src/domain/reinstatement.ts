/**
 * Reinstatement (contract v1.1 section 3): undoing a `revoke` that should not
 * have happened, two-person by construction. A request registers an action of
 * kind `lastday.reinstate` on `person:<id>` that is always `held`; once a
 * second eligible person approves it, lastday itself re-enables the person in
 * every connector and restores the grants `reduce` and `revoke` removed.
 *
 * Pure: which people may be reinstated and until when, what the record
 * becomes, and which actions are reinstatements. The guard (src/guard/
 * reinstate.ts) loads and writes; src/effects/reinstate.ts touches connectors.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { ActionRecord } from './action.ts';
import { isOpen } from './milestone.ts';
import type { PersonRecord, Reinstatement } from './person.ts';
import { mergePlan, statusOf } from './person.ts';
import type { Policy } from './policy.ts';
import { policyFor } from './policyScope.ts';
import { planEnding, planTermination } from './timeline.ts';

/** The action kind of a reinstatement. Kinds under `lastday.` are lastday's own. */
export const REINSTATE_KIND = 'lastday.reinstate';

/** Kinds a tool may not register through POST /v1/actions: lastday executes these itself. */
export const RESERVED_KIND_PREFIX = 'lastday.';

const TARGET_PREFIX = 'person:';

export function reinstateTarget(personId: string): string {
  return `${TARGET_PREFIX}${personId}`;
}

/** The person a reinstatement action re-enables, or undefined for any other action. */
export function reinstatedPersonOf(action: Pick<ActionRecord, 'kind' | 'target'>): string | undefined {
  if (action.kind !== REINSTATE_KIND || !action.target.startsWith(TARGET_PREFIX)) return undefined;
  return action.target.slice(TARGET_PREFIX.length);
}

/**
 * Whose audit trail an action's entries are filed under: the initiator's,
 * except a reinstatement's, which belong to the person reinstated (the
 * requester is named in the entry's details and actor).
 */
export function auditPersonOf(action: Pick<ActionRecord, 'kind' | 'target' | 'initiatorId'>): string {
  return reinstatedPersonOf(action) ?? action.initiatorId;
}

export const reinstatementRequestSchema = z
  .object({ reason: z.string().trim().min(1, { message: 'expected a reason' }).max(2000) })
  .strict();

export type ReinstatementRequest = z.infer<typeof reinstatementRequestSchema>;

/** Why a person cannot be reinstated: the `reason` beside the 409's `conflict` code. */
export type NotReinstatable = 'not_revoked' | 'already_reinstated' | 'window_closed';

export type ReinstatableCheck =
  | { ok: true; revokedAt: string; windowEndsAt: string }
  | { ok: false; reason: NotReinstatable; message: string };

const DAY_MS = 86_400_000;

/**
 * Whether `record` may be reinstated at `now`: its `revoke` took effect (done;
 * or started and then called off, which leaves `reinstatementRequired`), it is
 * not reinstated already, and `now` is within `reinstateWithinDays` of the
 * revoke (its `doneAt`; its `dueAt` for a revoke that never completed).
 */
export function checkReinstatable(
  record: PersonRecord,
  reinstateWithinDays: number,
  now: Date,
): ReinstatableCheck {
  const id = record.person.id;
  if (record.reinstatement) {
    return {
      ok: false,
      reason: 'already_reinstated',
      message: `${id} was reinstated already (${record.reinstatement.at})`,
    };
  }
  const revoke = record.milestones.find((m) => m.name === 'revoke');
  const revokedAt =
    revoke?.state === 'done'
      ? (revoke.doneAt ?? revoke.dueAt)
      : record.reinstatementRequired && revoke
        ? revoke.dueAt
        : undefined;
  if (revokedAt === undefined) {
    return {
      ok: false,
      reason: 'not_revoked',
      message: `${id} is ${statusOf(record)}, not revoked: there is nothing to reinstate`,
    };
  }
  const windowEndsMs = Date.parse(revokedAt) + reinstateWithinDays * DAY_MS;
  const windowEndsAt = new Date(windowEndsMs).toISOString();
  if (now.getTime() > windowEndsMs) {
    return {
      ok: false,
      reason: 'window_closed',
      message: `${id} was revoked at ${revokedAt}; reinstatement was possible until ${windowEndsAt} (policy.reinstateWithinDays ${reinstateWithinDays})`,
    };
  }
  return { ok: true, revokedAt, windowEndsAt };
}

/**
 * The record with its still-open milestones cancelled (a `verify` due after the
 * revoke), so no milestone job disables the person again once they are being
 * re-enabled. Undefined when nothing is open.
 */
export function withOpenMilestonesCancelled(
  record: PersonRecord,
  nowIso: string,
): { record: PersonRecord; cancelled: string[] } | undefined {
  const open = record.milestones.filter(isOpen);
  if (open.length === 0) return undefined;
  return {
    record: {
      ...record,
      updatedAt: nowIso,
      milestones: record.milestones.map((m) => {
        if (!isOpen(m)) return m;
        const { lastError: _e, failedAt: _f, alertedAt: _a, ...rest } = m;
        return { ...rest, state: 'cancelled' };
      }),
    },
    cancelled: open.map((m) => m.name),
  };
}

/**
 * The record once every connector re-enabled the person: status `reinstated`.
 *
 * What is still open of the undone departure (a `verify`) is cancelled. When
 * HR has since moved the departure into the future (an extension that came
 * after the revoke: `endsAt` later than `now`, `reinstatement_required`), that
 * departure is planned afresh in a new cycle (new plan version, every
 * milestone open), so the person is offboarded again at the new last day; the
 * caller schedules its jobs. Otherwise nothing is planned until the next HR event.
 */
export function reinstatedRecord(
  record: PersonRecord,
  reinstatement: Omit<Reinstatement, 'cycle'>,
  policy: Policy,
  now: DateTime,
): PersonRecord {
  const base = withOpenMilestonesCancelled(record, reinstatement.at)?.record ?? record;
  const out: PersonRecord = {
    ...base,
    // Revoked and then called off: reinstated now, not cancelled.
    cancelled: false,
    reinstatementRequired: false,
    reinstatement: { ...reinstatement, cycle: record.cycle },
    updatedAt: reinstatement.at,
  };
  if (record.endsAt === null || Date.parse(record.endsAt) <= now.toMillis() || record.lastDay === null) {
    return out;
  }
  const effective = policyFor(record.person, policy);
  const planned =
    record.kind === 'terminated'
      ? planTermination(DateTime.fromISO(record.endsAt, { zone: 'utc' }), effective)
      : planEnding(
          {
            lastDay: record.lastDay,
            endTime: record.endTime ?? effective.defaultEndTime,
            employment: record.person.employment,
            timezone: record.person.timezone,
          },
          effective,
        );
  return {
    ...out,
    cycle: record.cycle + 1,
    planVersion: record.planVersion + 1,
    policyScope: effective.scope,
    policyHash: effective.hash,
    milestones: mergePlan([], planned, now, true).milestones,
  };
}

/** Whether the reinstatement on the record undid the record's current cycle (nothing planned since). */
export function reinstatedThisCycle(record: PersonRecord): boolean {
  return record.reinstatement !== undefined && record.reinstatement.cycle === record.cycle;
}
