/**
 * A person's offboarding record and the state machine that applies HR events
 * to it. Pure: takes the current record, the event, the policy and `now`, and
 * returns the next record plus what the caller must do about it.
 *
 * Status is derived from the milestones, never stored, so it cannot disagree
 * with them: scheduled → reduced → frozen → revoked, or cancelled; and
 * revoked → reinstated once a reinstatement was carried out (the record then
 * carries `reinstatement`, see ./reinstatement.ts).
 */
import { DateTime } from 'luxon';
import type { HrEvent, PersonInfo } from './hrEvent.ts';
import { occurredAtMs } from './hrEvent.ts';
import { actionableAtMs, isOpen, MILESTONES, type Milestone, type MilestoneName } from './milestone.ts';
import type { Policy } from './policy.ts';
import { DEFAULT_SCOPE, policyFor } from './policyScope.ts';
import { type PlannedMilestone, planEnding, planTermination, toIsoUtc } from './timeline.ts';

export type PersonStatus = 'scheduled' | 'reduced' | 'frozen' | 'revoked' | 'cancelled' | 'reinstated';

export interface PersonRecord {
  person: PersonInfo;
  kind: 'ending' | 'terminated' | 'none';
  lastDay: string | null;
  endTime: string | null;
  /**
   * `endTime` is the policy's `defaultEndTime` (the event named none), so a new
   * default moves it. Absent on records saved before it existed: kept as given.
   */
  endTimeDefaulted?: true;
  /** The policy scope the plan came from (policyScope.ts); absent: `default`. */
  policyScope?: string;
  /** Fingerprint of the effective policy the plan came from (EffectivePolicy.hash). */
  policyHash?: string;
  /** UTC instant of `revoke`; null when nothing is planned. */
  endsAt: string | null;
  cancelled: boolean;
  reinstatementRequired: boolean;
  /**
   * Set when an approved reinstatement re-enabled the person (contract v1.1):
   * the status is then `reinstated`. The next plan (a new HR event) starts a
   * new cycle without it, as after a cancellation.
   */
  reinstatement?: Reinstatement;
  /**
   * Offboarding cycle: a new plan after a cancellation starts a new one, so the
   * effects recorded for the called-off departure do not count for the next.
   */
  cycle: number;
  /** Bumped on every applied event; milestone jobs carry it and go stale when it moves. */
  planVersion: number;
  milestones: Milestone[];
  lastEvent: { eventId: string; type: HrEvent['type']; occurredAt: string };
  /**
   * The ids of the newest HR events handled for this person — applied, or
   * recorded as stale — oldest first, at most RECENT_EVENTS_KEPT: the same
   * event again (a job run again after its save, an event sent twice) is a
   * duplicate. Written by the same revision-checked save as what it records,
   * so there is no moment where the one is stored without the other. An event
   * older than the window is judged by `lastEvent` (see handledEvent). Absent
   * on records saved before it existed.
   */
  recentEvents?: string[];
  /**
   * Events of this person were handled before `recentEvents` existed: their
   * marks are that version's per-event keys, which the worker still reads for
   * an event the window does not name.
   */
  legacyEventMarks?: true;
  createdAt: string;
  updatedAt: string;
  /** Optimistic-concurrency revision, bumped on every write. */
  rev: number;
}

/** What the record keeps of the reinstatement that re-enabled the person. */
export interface Reinstatement {
  actionId: string;
  requestedBy: string;
  approvedBy: string;
  reason: string;
  /** When every connector had re-enabled the person and restored the grants. */
  at: string;
  /** The offboarding cycle whose revoke it undid. */
  cycle: number;
}

export function statusOf(record: PersonRecord): PersonStatus {
  const done = (name: MilestoneName) => record.milestones.some((m) => m.name === name && m.state === 'done');
  // Reinstated: the undone departure's record, or a departure planned afresh
  // at reinstatement (an extension after the revoke) that has not started yet.
  if (record.reinstatement && !record.cancelled) {
    const sameCycle = record.reinstatement.cycle === record.cycle;
    if (sameCycle || !(done('reduce') || done('freeze') || done('revoke'))) return 'reinstated';
  }
  if (record.cancelled) return 'cancelled';
  if (done('revoke')) return 'revoked';
  if (done('freeze')) return 'frozen';
  if (done('reduce')) return 'reduced';
  return 'scheduled';
}

/** Whether the gate must treat this person as leaving (their pending actions held). */
export function isFrozenOrRevoked(status: PersonStatus | undefined): boolean {
  return status === 'frozen' || status === 'revoked';
}

/** Side effects that the caller must carry out after saving the new record. */
export interface Consequences {
  /** Put back the privileged grants that `reduce` removed (replan or cancellation before `revoke`). */
  restoreGrants: boolean;
  /** The person is no longer frozen: the gate stops holding their new actions. */
  unfreeze: boolean;
}

/** What the caller knows beyond the record, from the effects already carried out. */
export interface ApplyFacts {
  /**
   * `revoke` has disabled the person in at least one connector although the
   * milestone is not done (another connector still failing). Counts as revoked:
   * nothing is given back automatically.
   */
  revokeStarted?: boolean;
}

export type ApplyResult =
  | { outcome: 'applied'; record: PersonRecord; consequences: Consequences }
  /** `record`: the current one with the event noted as handled (see noteHandled), to save with its audit entry. */
  | { outcome: 'stale'; reason: string; record: PersonRecord }
  | { outcome: 'duplicate'; reason: string };

/**
 * Event ids a record keeps in `recentEvents`. A handled event can only come
 * back as a redelivery or a re-send; beyond the window it is older than
 * `lastEvent` (stale, recorded again, nothing changes) or is `lastEvent`
 * itself (a duplicate). Only an event with the very same `occurredAt` as the
 * newest, pushed out by this many later ones of that same instant, would be
 * applied again.
 */
export const RECENT_EVENTS_KEPT = 5;

/**
 * Whether the record says `eventId` was handled for this person: true, false,
 * or undefined when it cannot tell (events of this person were handled before
 * `recentEvents` existed, and their marks are elsewhere). No record: nothing
 * was handled (an event is handled only for a person with a record: applying
 * creates it, a stale one needs a newer applied one).
 */
export function handledEvent(record: PersonRecord | undefined, eventId: string): boolean | undefined {
  if (!record) return false;
  if (record.lastEvent.eventId === eventId || record.recentEvents?.includes(eventId)) return true;
  return record.recentEvents === undefined || record.legacyEventMarks ? undefined : false;
}

/** `record` with `eventId` noted as the newest handled event (the window kept bounded). */
export function noteHandled(record: PersonRecord, eventId: string): PersonRecord {
  const kept = (record.recentEvents ?? []).filter((id) => id !== eventId);
  return {
    ...record,
    recentEvents: [...kept, eventId].slice(-RECENT_EVENTS_KEPT),
    // A record from before the window may have had events marked the old way.
    ...(record.recentEvents === undefined || record.legacyEventMarks
      ? { legacyEventMarks: true as const }
      : {}),
  };
}

/**
 * Applies one validated HR event.
 *
 * - The same `eventId` as the last applied one is a duplicate (at-least-once delivery).
 * - An event older than the newest applied one (by `occurredAt`) is stale: recorded, ignored.
 * - A `revoke` that took effect anywhere (`facts.revokeStarted`) counts as done:
 *   a cancellation then flags reinstatement instead of restoring.
 * - Otherwise the plan is recomputed under the effective policy of the
 *   person's scope (policyFor, with the event's person): open milestones move; done ones stay done,
 *   except `reduce` and `freeze` when a new `contract.ending` puts them in the
 *   future again and `revoke` has not happened — those reopen, and the reduced
 *   grants come back. A termination never reopens them.
 */
export function applyHrEvent(
  current: PersonRecord | undefined,
  event: HrEvent,
  policy: Policy,
  now: DateTime,
  facts: ApplyFacts = {},
): ApplyResult {
  if (current) {
    if (handledEvent(current, event.eventId)) {
      return { outcome: 'duplicate', reason: `event ${event.eventId} is already applied` };
    }
    if (occurredAtMs(event) < Date.parse(current.lastEvent.occurredAt)) {
      return {
        outcome: 'stale',
        reason: `occurredAt ${event.occurredAt} is older than the applied event ${current.lastEvent.eventId} (${current.lastEvent.occurredAt})`,
        record: noteHandled(current, event.eventId),
      };
    }
  }
  const nowIso = toIsoUtc(now);
  const base: PersonRecord = current ?? {
    person: event.person,
    kind: 'none',
    lastDay: null,
    endTime: null,
    endsAt: null,
    cancelled: false,
    reinstatementRequired: false,
    cycle: 1,
    planVersion: 0,
    milestones: [],
    lastEvent: { eventId: event.eventId, type: event.type, occurredAt: event.occurredAt },
    recentEvents: [],
    createdAt: nowIso,
    updatedAt: nowIso,
    rev: 0,
  };
  const common = {
    ...noteHandled(base, event.eventId),
    person: event.person,
    planVersion: base.planVersion + 1,
    lastEvent: { eventId: event.eventId, type: event.type, occurredAt: event.occurredAt },
    updatedAt: nowIso,
  };
  // A reinstated person's revoke was undone: their next plan starts afresh
  // (unless the reinstatement already planned a new departure, a new cycle).
  const reinstated = base.reinstatement !== undefined && base.reinstatement.cycle === base.cycle;
  const revoked = !reinstated && (isDone(base.milestones, 'revoke') || (facts.revokeStarted ?? false));
  const reduced = !reinstated && isDone(base.milestones, 'reduce');
  const frozen = !reinstated && isDone(base.milestones, 'freeze');

  if (event.type === 'offboarding.cancelled' && reinstated) {
    // Nothing is planned or held back any more: recorded, and nothing changes.
    return { outcome: 'applied', record: common, consequences: { restoreGrants: false, unfreeze: false } };
  }
  if (event.type === 'offboarding.cancelled') {
    const milestones = base.milestones.map((m) => (isOpen(m) ? cancel(m) : m));
    return {
      outcome: 'applied',
      record: {
        ...withoutReinstatement(common),
        cancelled: true,
        reinstatementRequired: base.reinstatementRequired || revoked,
        milestones,
      },
      // After revoke nothing is re-enabled automatically (contract section 3).
      consequences: { restoreGrants: reduced && !revoked, unfreeze: frozen && !revoked },
    };
  }

  const effective = policyFor(event.person, policy);
  let planned: PlannedMilestone[];
  let lastDay: string;
  let endTime: string | null;
  if (event.type === 'contract.ending') {
    lastDay = event.lastDay!;
    endTime = event.endTime ?? effective.defaultEndTime;
    planned = planEnding(
      { lastDay, endTime, employment: event.person.employment, timezone: event.person.timezone },
      effective,
    );
  } else {
    const effectiveAt = event.effectiveAt ? DateTime.fromISO(event.effectiveAt, { setZone: true }) : now;
    planned = planTermination(effectiveAt, effective);
    lastDay = effectiveAt.setZone(event.person.timezone).toISODate()!;
    endTime = effectiveAt.setZone(event.person.timezone).toFormat('HH:mm:ss');
  }

  // A plan after a cancellation (or a reinstatement) starts afresh: the earlier
  // departure was called off (or undone).
  const fresh = base.cancelled || reinstated;
  const previous = fresh ? [] : base.milestones;
  // Only a new last day gives reduced access back; a termination never does,
  // even one that takes effect later (contract section 3).
  const mayReopen = event.type === 'contract.ending' && !(revoked && !base.cancelled);
  const merged = mergePlan(previous, planned, now, mayReopen);
  const reopened = (name: MilestoneName) =>
    isDone(previous, name) && merged.milestones.some((m) => m.name === name && m.state === 'scheduled');
  const revokeDue = planned.find((p) => p.name === 'revoke')!.dueAt;
  const { endTimeDefaulted: _was, reinstatement: _undone, ...rest } = common;
  return {
    outcome: 'applied',
    record: {
      ...rest,
      kind: event.type === 'contract.ending' ? 'ending' : 'terminated',
      cycle: fresh ? base.cycle + 1 : base.cycle,
      lastDay,
      endTime,
      ...(event.type === 'contract.ending' && event.endTime === undefined
        ? { endTimeDefaulted: true as const }
        : {}),
      policyScope: effective.scope,
      policyHash: effective.hash,
      endsAt: toIsoUtc(revokeDue),
      cancelled: false,
      // Revoked already, and the new plan says they stay longer: a person must re-enable them.
      reinstatementRequired: fresh ? false : revoked && revokeDue > now,
      milestones: merged.milestones,
    },
    consequences: { restoreGrants: reopened('reduce'), unfreeze: reopened('freeze') },
  };
}

/**
 * Merges a new plan into the existing milestones. Open ones take the new
 * instant. Done ones stay done, except reduce/freeze whose new instant is in
 * the future when `mayReopen` (a new last day, revoke not done). Milestones the
 * new plan lacks (notice under a termination) are cancelled if still open.
 * An open milestone whose instant has passed when the plan is saved carries
 * `actionableAt` (see {@link actionableSince}).
 */
export function mergePlan(
  existing: readonly Milestone[],
  planned: readonly PlannedMilestone[],
  now: DateTime,
  mayReopen: boolean,
): { milestones: Milestone[] } {
  const out: Milestone[] = [];
  for (const name of MILESTONES) {
    const old = existing.find((m) => m.name === name);
    const next = planned.find((p) => p.name === name);
    if (!next) {
      if (old) out.push(isOpen(old) ? cancel(old) : old);
      continue;
    }
    const dueAt = toIsoUtc(next.dueAt);
    if (old?.state === 'done') {
      const reopen = (name === 'reduce' || name === 'freeze') && mayReopen && next.dueAt > now;
      out.push(reopen ? { name, dueAt, state: 'scheduled' } : old);
      continue;
    }
    out.push({ name, dueAt, state: 'scheduled', ...actionableSince(old, next.dueAt, now) });
  }
  return { milestones: out };
}

/**
 * When lastday can first act on an open milestone of a plan saved at `now`.
 * Planned ahead: at its instant (nothing stored). Planned after its instant (a
 * late HR event, or one that moves it into the past): now, because lastday
 * could not have acted on an instant it did not know — unless the milestone
 * was already open and actionable under the previous plan, in which case it
 * keeps that earlier moment (a stream of replans must not keep postponing an
 * overdue alarm). Never before the new `dueAt`.
 */
function actionableSince(
  old: Milestone | undefined,
  dueAt: DateTime,
  now: DateTime,
): Pick<Milestone, 'actionableAt'> {
  const dueMs = dueAt.toMillis();
  const nowMs = now.toMillis();
  if (dueMs >= nowMs) return {};
  const before = old && isOpen(old) ? actionableAtMs(old) : undefined;
  const since = before !== undefined && before <= nowMs ? Math.max(dueMs, before) : nowMs;
  return since > dueMs ? { actionableAt: toIsoUtc(DateTime.fromMillis(since, { zone: 'utc' })) } : {};
}

function withoutReinstatement(record: PersonRecord): PersonRecord {
  const { reinstatement: _r, ...rest } = record;
  return rest;
}

function isDone(milestones: readonly Milestone[], name: MilestoneName): boolean {
  return milestones.some((m) => m.name === name && m.state === 'done');
}

function cancel(m: Milestone): Milestone {
  const { lastError: _error, failedAt: _failed, alertedAt: _alerted, ...rest } = m;
  return { ...rest, state: 'cancelled' };
}

/** Open milestones in run order: what must have a job. */
export function openMilestones(record: PersonRecord): Milestone[] {
  return record.milestones.filter(isOpen);
}

/** The public view of a person (contract section 5). */
export function personView(record: PersonRecord) {
  return {
    personId: record.person.id,
    status: statusOf(record),
    employment: record.person.employment,
    timezone: record.person.timezone,
    /** The policy scope the plan came from (contract section 6). */
    policy: record.policyScope ?? DEFAULT_SCOPE,
    lastDay: record.lastDay,
    endTime: record.endTime,
    endsAt: record.endsAt,
    reinstatement_required: record.reinstatementRequired,
    ...(record.reinstatement
      ? {
          reinstatement: {
            actionId: record.reinstatement.actionId,
            requestedBy: record.reinstatement.requestedBy,
            approvedBy: record.reinstatement.approvedBy,
            at: record.reinstatement.at,
          },
        }
      : {}),
    planVersion: record.planVersion,
    milestones: record.milestones.map((m) => ({
      name: m.name,
      dueAt: m.dueAt,
      ...(m.actionableAt ? { actionableAt: m.actionableAt } : {}),
      state: m.state,
      ...(m.doneAt ? { doneAt: m.doneAt } : {}),
      ...(m.lastError ? { lastError: m.lastError } : {}),
    })),
    lastEvent: record.lastEvent,
    updatedAt: record.updatedAt,
  };
}
