/**
 * What the guard lends the ops features (src/app/opsProviders.ts): holds for
 * the evidence report and /metrics, and the `hold-expiry` cron's sweep — a
 * safety net behind the per-action expiry jobs, for a job lost with Redis data.
 */
import type { Context } from '../app/context.ts';
import type { OpsProviders } from '../app/opsProviders.ts';
import { ACTION_STATES, type ActionRecord } from '../domain/action.ts';
import type { HoldSummary } from '../domain/evidence.ts';
import { ActionsStore } from '../store/actions.ts';
import { createGuard } from './instances.ts';

/** Held actions looked at per sweep batch. */
const SWEEP_BATCH = 500;

function store(ctx: Context): ActionsStore {
  return new ActionsStore(ctx.redis, ctx.keys, ctx.audit);
}

function toSummary(a: ActionRecord): HoldSummary {
  const decidedBy = a.approvedBy ?? a.cancelledBy;
  const decidedAt = a.approvedAt ?? a.cancelledAt;
  return {
    actionId: a.actionId,
    kind: a.kind,
    target: a.target,
    state: a.state,
    ...(a.heldAt ? { heldAt: a.heldAt } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
    ...(decidedBy ? { decidedBy } : {}),
    ...(decidedAt ? { decidedAt } : {}),
  };
}

export const guardOpsProviders: OpsProviders = {
  holds: {
    async forPerson(ctx, personId) {
      const actions = store(ctx);
      const records = await actions.getMany(await actions.idsOf(personId, 10_000));
      // Every action that was ever held, whatever became of it: the auditor asks who decided.
      return records.filter((a) => a.heldAt !== undefined).map(toSummary);
    },
    async countByState(ctx) {
      const actions = store(ctx);
      const counts = await Promise.all(ACTION_STATES.map((s) => actions.countInState(s)));
      return Object.fromEntries(ACTION_STATES.map((s, i) => [s, counts[i] ?? 0]));
    },
  },
  async expireHolds(ctx) {
    const actions = store(ctx);
    const guard = createGuard(ctx);
    let checked = 0;
    let expired = 0;
    try {
      // Walk the held index oldest first; expiring shrinks it, so re-read from the
      // offset of what stayed held.
      let offset = 0;
      for (;;) {
        const ids = await actions.idsInState('held', SWEEP_BATCH, offset);
        if (ids.length === 0) break;
        let stayed = 0;
        for (const id of ids) {
          checked++;
          const result = await guard.expire(id);
          if (result.outcome === 'expired') expired++;
          else stayed++;
        }
        offset += stayed;
        if (ids.length < SWEEP_BATCH) break;
      }
    } finally {
      await guard.close();
    }
    return { checked, expired };
  },
};
