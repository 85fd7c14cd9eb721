/**
 * Replanning a person under a changed policy (issue #13 item 3, the pure
 * part): a holiday added, a business-day count or a default end time changed,
 * a scope added. The caller (reconcile) finds the plans whose `policyHash`
 * differs from their scope's current one and saves what this returns.
 *
 * Only what is not done moves: done milestones stay done, and nothing reopens
 * (a `reduce` done under the old policy is not undone because the new one
 * would have it later; only a new last day gives access back). Open milestones
 * whose new instant has passed run at once, with `actionableAt` now, exactly
 * as for a late HR event (mergePlan).
 */
import { DateTime } from 'luxon';
import { isOpen, type MilestoneName } from './milestone.ts';
import { mergePlan, type PersonRecord } from './person.ts';
import type { Policy } from './policy.ts';
import { DEFAULT_SCOPE, type EffectivePolicy, policyFor } from './policyScope.ts';
import { type PlannedMilestone, planEnding, planTermination, toIsoUtc } from './timeline.ts';

export interface PolicyStamp {
  scope: string;
  /** Null for a plan saved before plans carried a fingerprint. */
  hash: string | null;
}

export type ReplanResult =
  | { outcome: 'unchanged'; reason: string }
  | {
      outcome: 'replanned';
      /** To save; `planVersion` is bumped only when a milestone moved (its jobs go stale). */
      record: PersonRecord;
      from: PolicyStamp;
      to: PolicyStamp;
      /** Open milestones whose instant changed; empty when only the stamp did. */
      moved: { name: MilestoneName; from: string; to: string }[];
    };

/** The policy stamp of a saved plan. */
export function stampOf(record: PersonRecord): PolicyStamp {
  return { scope: record.policyScope ?? DEFAULT_SCOPE, hash: record.policyHash ?? null };
}

/**
 * Whether `record` was planned under another policy than the one its person
 * gets now (another scope, or the same scope changed). Cheap: fingerprints only.
 */
export function plannedUnderOtherPolicy(record: PersonRecord, policy: Policy): boolean {
  if (!hasOpenPlan(record)) return false;
  const effective = policyFor(record.person, policy);
  const stamp = stampOf(record);
  return stamp.hash !== effective.hash || stamp.scope !== effective.scope;
}

/** Replans `record` under `policy` at `now`, moving only milestones that are not done. */
export function replanUnderPolicy(record: PersonRecord, policy: Policy, now: DateTime): ReplanResult {
  if (!hasOpenPlan(record)) return { outcome: 'unchanged', reason: 'no open milestone' };
  const effective = policyFor(record.person, policy);
  const from = stampOf(record);
  const to: PolicyStamp = { scope: effective.scope, hash: effective.hash };
  if (from.hash === to.hash && from.scope === to.scope) {
    return { outcome: 'unchanged', reason: 'planned under this policy' };
  }

  const planned = plan(record, effective);
  const { milestones } = mergePlan(record.milestones, planned, now, false);
  const moved = milestones.flatMap((m) => {
    const old = record.milestones.find((o) => o.name === m.name);
    return old && isOpen(old) && old.dueAt !== m.dueAt
      ? [{ name: m.name, from: old.dueAt, to: m.dueAt }]
      : [];
  });
  const revoke = milestones.find((m) => m.name === 'revoke');
  const revokeMoved = moved.some((m) => m.name === 'revoke');
  return {
    outcome: 'replanned',
    record: {
      ...record,
      milestones,
      // The end time follows a changed default only while revoke can still move.
      ...(revokeMoved && record.endTimeDefaulted ? { endTime: effective.defaultEndTime } : {}),
      endsAt: revoke ? revoke.dueAt : record.endsAt,
      policyScope: effective.scope,
      policyHash: effective.hash,
      planVersion: moved.length > 0 ? record.planVersion + 1 : record.planVersion,
      updatedAt: toIsoUtc(now),
    },
    from,
    to,
    moved,
  };
}

function hasOpenPlan(record: PersonRecord): boolean {
  return (
    record.kind !== 'none' && !record.cancelled && record.lastDay !== null && record.milestones.some(isOpen)
  );
}

/** The plan the record's last event would get under `effective`. */
function plan(record: PersonRecord, effective: EffectivePolicy): PlannedMilestone[] {
  if (record.kind === 'terminated') {
    // Everything but verify sits at `effectiveAt`, which the policy does not move.
    const at = record.milestones.find((m) => m.name === 'revoke')?.dueAt ?? record.endsAt!;
    return planTermination(DateTime.fromISO(at, { zone: 'utc' }), effective);
  }
  const endTime = record.endTimeDefaulted
    ? effective.defaultEndTime
    : (record.endTime ?? effective.defaultEndTime);
  return planEnding(
    {
      lastDay: record.lastDay!,
      endTime,
      employment: record.person.employment,
      timezone: record.person.timezone,
    },
    effective,
  );
}
