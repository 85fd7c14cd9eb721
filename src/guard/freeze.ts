/**
 * The `freeze` milestone's effect on actions: from this instant the person
 * counts as frozen (the freeze mark, see domain/action.ts guardStatus), then
 * every pending action they started becomes held, or cancelled when its kind
 * matches `policy.cancelOnFreeze`, in atomic batches until none is left.
 *
 * Why this misses none however many there are: once the mark is set, a
 * registration decides `held` (and one decided before the mark fails its
 * check and decides again), so the pending set only shrinks; each batch is one
 * Lua script that converts and audits together (one audit entry per batch,
 * listing every action and indexed under each); the loop ends when the set is
 * empty. The gate holds the person's pending actions from the mark on, so the
 * batches' progress is never visible as an `allow`. A job run twice finds
 * nothing pending and changes nothing.
 */
import { freezeOutcome } from '../domain/action.ts';
import type { PersonRecord } from '../domain/person.ts';
import type { FreezeItem } from '../store/actions.ts';
import type { GuardService } from './service.ts';

/** Pending actions converted per atomic step: bounds how long one script blocks Redis. */
export const FREEZE_BATCH = 500;

export async function freezeActions(
  guard: GuardService,
  record: PersonRecord,
): Promise<{ actions: { held: number; cancelled: number } }> {
  const { ctx, actions } = guard;
  const personId = record.person.id;
  await actions.setFreezeMark(personId, record.planVersion);
  const totals = { held: 0, cancelled: 0 };
  for (;;) {
    const batch = await actions.pendingOf(personId, FREEZE_BATCH);
    if (batch.length === 0) break;
    const at = ctx.now().toISOString();
    const items: FreezeItem[] = batch.map(({ actionId, kind }) => ({
      actionId,
      ...freezeOutcome(kind, ctx.policy.cancelOnFreeze),
    }));
    const held = items.filter((i) => i.state === 'held').map((i) => i.actionId);
    const cancelled = items.filter((i) => i.state === 'cancelled').map((i) => i.actionId);
    // Expiry jobs first: if this step fails, the milestone retries and finds the
    // batch still pending; the other way round, a retry would find nothing
    // pending and the holds would never expire. A job for an action that ends up
    // not held finds nothing to do.
    await guard.scheduleHoldExpiry(held, at);
    const result = await actions.freezeBatch(personId, items, at, {
      at,
      type: 'actions.frozen',
      actor: 'lastday',
      personId,
      details: {
        by: 'freeze',
        planVersion: record.planVersion,
        held,
        cancelled,
        ...(cancelled.length > 0 ? { cancelOnFreeze: ctx.policy.cancelOnFreeze } : {}),
      },
    });
    if ('moved' in result) continue; // some were approved or cancelled meanwhile: read again
    if (held.length > 0) await guard.notifyHeld(held, record);
    totals.held += result.held;
    totals.cancelled += result.cancelled;
  }
  if (totals.held + totals.cancelled > 0) {
    ctx.log.info({ personId, ...totals }, 'freeze: pending actions held or cancelled');
  }
  return { actions: totals };
}
