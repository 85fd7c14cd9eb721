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
 * as for a late HR event (mergePlan): the new policy says when access goes,
 * and lastday could not act on an instant before it knew the policy.
 *
 * Two things never move, whatever the new policy says:
 * - an open milestone already due under the old plan (running, or retrying
 *   after a partial failure): putting it back in the future would postpone
 *   what is under way, and for `reduce` would hand removed grants back;
 * - anything of a person whose `revoke` took effect (done, or started in some
 *   connector): they are gone; only `verify` would be left to move.
 * Cancelled people have no open milestone and are left alone too.
 */
import { DateTime } from 'luxon';
import { isOpen, type Milestone, type MilestoneName } from './milestone.ts';
import { type ApplyFacts, mergePlan, type PersonRecord } from './person.ts';
import type { Policy } from './policy.ts';
import { canonicalJson, fingerprint } from './fingerprint.ts';
import { DEFAULT_SCOPE, type EffectivePolicy, effectivePolicies, policyFor } from './policyScope.ts';
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

/**
 * One fingerprint of the whole policy as plans see it: every scope's effective
 * policy and, in order, what it matches. Equal fingerprints: no plan can have
 * come from another policy than this one; a new one: reconcile has work.
 */
export function policyFingerprint(policy: Policy): string {
  const scopes = [...effectivePolicies(policy)].map(([name, e]) => [name, e.hash]);
  return fingerprint(canonicalJson({ v: 1, scopes, matches: policy.scopes.map((s) => s.match) }));
}

/** The policy stamp of a saved plan. */
export function stampOf(record: PersonRecord): PolicyStamp {
  return { scope: record.policyScope ?? DEFAULT_SCOPE, hash: record.policyHash ?? null };
}

/**
 * Whether `record` was planned under another policy than the one its person
 * gets now (another scope, or the same scope changed). Cheap: fingerprints only.
 */
export function plannedUnderOtherPolicy(record: PersonRecord, policy: Policy): boolean {
  if (notReplannable(record)) return false;
  const effective = policyFor(record.person, policy);
  const stamp = stampOf(record);
  return stamp.hash !== effective.hash || stamp.scope !== effective.scope;
}

/**
 * Replans `record` under `policy` at `now`, moving only milestones that are
 * not done and not yet due. `facts.revokeStarted`: revoke took effect in some
 * connector although the milestone is open (as for applyHrEvent).
 */
export function replanUnderPolicy(
  record: PersonRecord,
  policy: Policy,
  now: DateTime,
  facts: ApplyFacts = {},
): ReplanResult {
  const reason = notReplannable(record) ?? (facts.revokeStarted ? 'revoke took effect' : undefined);
  if (reason) return { outcome: 'unchanged', reason };
  const effective = policyFor(record.person, policy);
  const from = stampOf(record);
  const to: PolicyStamp = { scope: effective.scope, hash: effective.hash };
  if (from.hash === to.hash && from.scope === to.scope) {
    return { outcome: 'unchanged', reason: 'planned under this policy' };
  }

  const planned = plan(record, effective);
  const merged = mergePlan(record.milestones, planned, now, false).milestones;
  const milestones = merged.map((m) => keepIfDue(record.milestones, m, now));
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

/** Why `record` is not replanned whatever the policy says, or undefined when it may be. */
function notReplannable(record: PersonRecord): string | undefined {
  if (
    record.kind === 'none' ||
    record.cancelled ||
    record.lastDay === null ||
    !record.milestones.some(isOpen)
  )
    return 'no open milestone';
  if (record.milestones.some((m) => m.name === 'revoke' && m.state === 'done')) return 'revoked';
  return undefined;
}

/** The old milestone when it was open and already due at `now`; else the merged one. */
function keepIfDue(existing: readonly Milestone[], merged: Milestone, now: DateTime): Milestone {
  const old = existing.find((o) => o.name === merged.name);
  return old && isOpen(old) && Date.parse(old.dueAt) <= now.toMillis() ? old : merged;
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
