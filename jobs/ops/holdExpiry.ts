/**
 * The `hold-expiry` cron task: a safety net behind the per-action expiry jobs
 * (jobs/actions.ts) for a job lost with Redis data. Walks the held index
 * oldest first and cancels every hold nobody decided within
 * `policy.holdExpiryHours`; a hold found decided or not due is left alone.
 */
import type { JobPorts } from '../ports.ts';

/** Held actions looked at per sweep batch. */
const SWEEP_BATCH = 500;

export async function expireHolds(
  ctx: Pick<JobPorts, 'actions' | 'guard'>,
): Promise<{ checked: number; expired: number }> {
  let checked = 0;
  let expired = 0;
  // Expiring shrinks the index, so each batch is read again from the offset of what stayed held.
  let offset = 0;
  for (;;) {
    const ids = await ctx.actions.idsInState('held', SWEEP_BATCH, offset);
    if (ids.length === 0) break;
    let stayed = 0;
    for (const id of ids) {
      checked++;
      const result = await ctx.guard.expire(id);
      if (result.outcome === 'expired') expired++;
      else stayed++;
    }
    offset += stayed;
    if (ids.length < SWEEP_BATCH) break;
  }
  return { checked, expired };
}
