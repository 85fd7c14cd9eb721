/**
 * Replanning on a policy change (issue #13 item 3), the step reconcile runs on
 * each batch of people before it repairs their jobs: a person whose saved plan
 * carries another policy stamp than their scope's current one (a holiday
 * added, a business-day count changed, a scope added or edited) is replanned
 * under the current policy (src/domain/replan.ts decides what moves).
 *
 * Each person is done on the same path an HR event takes: under the person
 * lock, from a fresh read, with the revision-checked save and its audit entry
 * in one step, then the old version's jobs removed (a courtesy: they find the
 * plan version moved on and do nothing) and the new plan scheduled through
 * ensurePlan. The lock is held for one person's read-save-schedule only; a
 * person whose lock is busy (a milestone running) is left to the next pass.
 */
import { DateTime } from 'luxon';
import { LastdayError } from '../../src/domain/errors.ts';
import { isOpen } from '../../src/domain/milestone.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { plannedUnderOtherPolicy, replanUnderPolicy } from '../../src/domain/replan.ts';
import { revokeTookEffect } from '../../src/effects/connectorEffects.ts';
import { horizonMs, unscheduleVersion } from '../../src/queues/milestones.ts';
import { ensurePlan, type EnsurePlanPorts } from '../ensurePlan.ts';
import type { JobPorts } from '../ports.ts';

export interface ReplanCounts {
  /** People with a milestone moved or another scope: saved with a `policy.replanned` audit entry. */
  replanned: number;
  /** People whose plan only took the new stamp (nothing moved, same scope): saved without one. */
  restamped: number;
  /** People planned under another policy but left for the next pass (lock busy, save conflict). */
  replanDeferred: number;
}

/** How many people of a batch are replanned at once. */
const PARALLEL = 16;
/** Tries for a busy person lock before leaving the person to the next pass. */
const LOCK_TRIES = 3;
const LOCK_RETRY_MS = 25;

/**
 * Replans the records of one batch that came from another policy; returns the
 * batch with every replanned person's saved record in place of the old one,
 * so the job repair that follows looks at the current plan version.
 */
/** What a replan uses: the person's lock and record, effects (restore), and the milestone jobs. */
export type ReplanPorts = EnsurePlanPorts & Pick<JobPorts, 'people' | 'lock' | 'policy'>;

export async function replanBatch(
  ctx: ReplanPorts,
  records: PersonRecord[],
  counts: ReplanCounts,
): Promise<PersonRecord[]> {
  const stale = records.filter((r) => plannedUnderOtherPolicy(r, ctx.policy));
  if (stale.length === 0) return records;
  const saved = new Map<string, PersonRecord>();
  for (let i = 0; i < stale.length; i += PARALLEL) {
    await Promise.all(
      stale.slice(i, i + PARALLEL).map(async (record) => {
        const id = record.person.id;
        try {
          const result = await replanPerson(ctx, id);
          if (result === 'busy') counts.replanDeferred++;
          else {
            // The fresh copy even when unchanged: another writer may have moved the version on.
            if (result.record) saved.set(id, result.record);
            if (result.outcome !== 'unchanged') counts[result.outcome]++;
          }
        } catch (err) {
          counts.replanDeferred++;
          const conflict = err instanceof LastdayError && err.code === 'conflict';
          ctx.log[conflict ? 'warn' : 'error'](
            { personId: id, err: (err as Error).message },
            'policy replan failed; the next reconcile pass tries again',
          );
        }
      }),
    );
  }
  return records.map((r) => saved.get(r.person.id) ?? r);
}

type Replanned = { outcome: 'replanned' | 'restamped' | 'unchanged'; record: PersonRecord | undefined };
type PersonReplan = Replanned | 'busy';

async function replanPerson(ctx: ReplanPorts, personId: string): Promise<PersonReplan> {
  for (let attempt = 1; ; attempt++) {
    const result = await ctx.lock.withLock(personId, () => replanLocked(ctx, personId));
    if (result.locked) return result.value;
    if (attempt >= LOCK_TRIES) return 'busy';
    await new Promise((r) => setTimeout(r, LOCK_RETRY_MS * attempt));
  }
}

async function replanLocked(ctx: ReplanPorts, personId: string): Promise<Replanned> {
  // Read again under the lock: the batch's copy may predate a milestone run or an event.
  const current = await ctx.people.get(personId);
  if (!current || !plannedUnderOtherPolicy(current, ctx.policy))
    return { outcome: 'unchanged', record: current };
  const now = ctx.now();
  const revokeDue = current.milestones.some(
    (m) => m.name === 'revoke' && isOpen(m) && Date.parse(m.dueAt) <= now.getTime(),
  );
  // Only a revoke that has come due can have started somewhere: one read, not one per person.
  const revokeStarted = revokeDue && (await revokeTookEffect(ctx, current));
  const result = replanUnderPolicy(current, ctx.policy, DateTime.fromJSDate(now, { zone: 'utc' }), {
    revokeStarted,
  });
  if (result.outcome !== 'replanned') return { outcome: 'unchanged', record: current };

  const { record, from, to, moved } = result;
  const audited = moved.length > 0 || from.scope !== to.scope;
  const saved = audited
    ? await ctx.people.save(record, {
        at: now.toISOString(),
        type: 'policy.replanned',
        actor: 'lastday',
        personId,
        details: {
          scope: { from: from.scope, to: to.scope },
          policyHash: { from: from.hash, to: to.hash },
          planVersion: { from: current.planVersion, to: record.planVersion },
          moved,
          lastDay: record.lastDay,
          endsAt: record.endsAt,
        },
      })
    : await ctx.people.save(record);
  // Nothing moved: same version, same jobs (the repair step after this checks them).
  if (saved.planVersion !== current.planVersion) {
    await unscheduleVersion(ctx.queues.milestones, current, ctx.now().getTime(), horizonMs(ctx.settings));
    await ensurePlan(ctx, saved);
  }
  if (audited) {
    ctx.log.info(
      { personId, scope: to.scope, from: from.hash, to: to.hash, moved: moved.map((m) => m.name) },
      'plan replanned under the current policy',
    );
  }
  return { outcome: audited ? 'replanned' : 'restamped', record: saved };
}
