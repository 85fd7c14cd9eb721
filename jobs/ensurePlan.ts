/**
 * Brings the world in line with a person's saved plan: restores reduced grants
 * when `reduce` is no longer done (extension or cancellation before revoke) and
 * makes sure every open milestone has its job. Both steps are idempotent, so
 * they run after every applied event *and* after a duplicate one: a crash
 * between saving the plan and scheduling it is repaired by the redelivery.
 */
import type { Context } from '../src/app/context.ts';
import type { PersonRecord } from '../src/domain/person.ts';
import { restoreAccess } from '../src/effects/connectorEffects.ts';
import { scheduleMilestones } from '../src/queues/milestones.ts';

export async function ensurePlan(ctx: Context, record: PersonRecord): Promise<void> {
  const reduce = record.milestones.find((m) => m.name === 'reduce');
  const revoked = record.milestones.some((m) => m.name === 'revoke' && m.state === 'done');
  if (!revoked && (reduce === undefined || reduce.state !== 'done' || record.cancelled)) {
    await restoreAccess(ctx, record);
  }
  if (!record.cancelled) await scheduleMilestones(ctx.queues.milestones, record, ctx.now().getTime());
}
