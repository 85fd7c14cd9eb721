/**
 * Brings the world in line with a person's saved plan: restores reduced grants
 * when the plan gave them back (extension or cancellation before `revoke`) and
 * makes sure every open milestone has its job. Both steps are idempotent, so
 * they run after every applied event *and* after a duplicate one: a crash
 * between saving the plan and scheduling it is repaired by the redelivery.
 */
import type { Context } from '../src/app/context.ts';
import type { PersonRecord } from '../src/domain/person.ts';
import { restoreAccess } from '../src/effects/connectorEffects.ts';
import { scheduleMilestones } from '../src/queues/milestones.ts';

export async function ensurePlan(ctx: Context, record: PersonRecord): Promise<void> {
  if (grantsBelongBack(record, ctx.now().getTime())) await restoreAccess(ctx, record);
  if (!record.cancelled) await scheduleMilestones(ctx.queues.milestones, record, ctx.now().getTime());
}

/**
 * Whether reduced grants must be put back: the departure was called off, or
 * `reduce` is open again with its instant in the future (a later last day),
 * and `revoke` has not happened. A `reduce` that is open but due is one still
 * running or retrying after a partial failure: what it already removed stays
 * removed, or a redelivered event would hand privileges back to a leaver.
 */
function grantsBelongBack(record: PersonRecord, nowMs: number): boolean {
  const revoked = record.milestones.some((m) => m.name === 'revoke' && m.state === 'done');
  // Revoked somewhere (reinstatement pending): a person decides, not lastday.
  if (revoked || record.reinstatementRequired) return false;
  if (record.cancelled) return true;
  const reduce = record.milestones.find((m) => m.name === 'reduce');
  return reduce !== undefined && reduce.state !== 'done' && Date.parse(reduce.dueAt) > nowMs;
}
