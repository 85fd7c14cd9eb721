/**
 * Managed execution of one action: ask the gate at the instant; when it allows,
 * call the callback under a per-action claim and record `executed` atomically
 * with its audit entry. Each action's callback succeeds at most once: a run
 * after a success finds `executed` and calls nothing, and two runs at once are
 * kept apart by the claim.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from '../app/context.ts';
import {
  auditableUrl,
  type CallbackAnswer,
  callCallback,
  callFailureReason,
  isRetryableStatus,
} from './callback.ts';
import { executeReinstatement, type ReinstateOutcome } from './reinstate.ts';
import { ExecutionRetry } from './retry.ts';
import type { GuardService } from './service.ts';
import { auditPersonOf, reinstatedPersonOf } from '../domain/reinstatement.ts';

/** Longest a callback call may take; the claim outlives it. */
export const CALLBACK_TIMEOUT_MS = 10_000;

export type ExecuteOutcome =
  | { outcome: 'executed'; status: number }
  | ReinstateOutcome
  | { outcome: 'held' | 'cancelled' | 'executed_already' | 'not_managed' | 'no_secret'; reason: string }
  | { outcome: 'refused'; status: number };

/** A callback failure worth retrying (network error, 5xx, 408, 429). */
export class CallbackRetry extends ExecutionRetry {
  override readonly name = 'CallbackRetry';
}

export async function executeAction(
  ctx: Context,
  guard: GuardService,
  actionId: string,
  attempt: number,
): Promise<ExecuteOutcome> {
  const decision = await guard.gate(actionId, { name: 'lastday' });
  if (decision.decision !== 'allow') {
    if (decision.state === 'executed') return { outcome: 'executed_already', reason: decision.reason };
    // On the record: lastday was due to run it and did not, and why.
    const skipped = await guard.actions.get(actionId);
    await ctx.audit.append({
      at: ctx.now().toISOString(),
      type: 'action.execution_skipped',
      actor: 'lastday',
      personId: skipped ? auditPersonOf(skipped) : undefined,
      actionId,
      details: { decision: decision.decision, state: decision.state, reason: decision.reason, attempt },
    });
    return { outcome: decision.state === 'cancelled' ? 'cancelled' : 'held', reason: decision.reason };
  }
  // lastday's own actions (a reinstatement) run here, not through a callback.
  const own = await guard.actions.get(actionId);
  if (own && reinstatedPersonOf(own) !== undefined) return executeReinstatement(guard, own, attempt);
  const secret = ctx.settings.env.LASTDAY_ACTION_SECRET;
  if (!secret) {
    await ctx.alerts.raise({
      kind: 'action_callback_unsigned',
      message: `cannot call the callback of ${actionId}: LASTDAY_ACTION_SECRET is not set`,
      actionId,
    });
    return { outcome: 'no_secret', reason: 'LASTDAY_ACTION_SECRET is not set' };
  }
  const token = randomUUID();
  if (!(await guard.actions.claim(actionId, token, CALLBACK_TIMEOUT_MS * 3))) {
    throw new CallbackRetry(`another executor is calling the callback of ${actionId}`);
  }
  try {
    // Read after claiming: the executor that held the claim may just have succeeded.
    const action = await guard.actions.get(actionId);
    if (!action?.callbackUrl) return { outcome: 'not_managed', reason: 'no callbackUrl' };
    if (action.state === 'executed') return { outcome: 'executed_already', reason: 'executed already' };
    if (action.state !== 'pending' && action.state !== 'approved') {
      return { outcome: action.state === 'cancelled' ? 'cancelled' : 'held', reason: action.reason };
    }
    let answer: CallbackAnswer;
    try {
      answer = await callCallback(action, secret, { timeoutMs: CALLBACK_TIMEOUT_MS, now: ctx.now });
    } catch (err) {
      throw new CallbackRetry(`callback of ${actionId} failed: ${callFailureReason(err)}`);
    }
    if (answer.status >= 200 && answer.status < 300) {
      const now = ctx.now().toISOString();
      // The call happened: record it from whatever state the action reached meanwhile.
      await guard.actions.transition(
        action,
        ['pending', 'held', 'approved', 'cancelled'],
        'executed',
        { executedAt: now, updatedAt: now, reason: `callback answered ${answer.status}` },
        {
          at: now,
          type: 'action.executed',
          actor: 'lastday',
          personId: action.initiatorId,
          actionId,
          details: { status: answer.status, attempt, callbackUrl: auditableUrl(action.callbackUrl) },
        },
      );
      return { outcome: 'executed', status: answer.status };
    }
    if (isRetryableStatus(answer.status)) {
      throw new CallbackRetry(`callback of ${actionId} answered ${answer.status} ${answer.reason}`);
    }
    await ctx.audit.append({
      at: ctx.now().toISOString(),
      type: 'action.callback_refused',
      actor: 'lastday',
      personId: action.initiatorId,
      actionId,
      // Status and reason phrase only: never the answer's body (see callback.ts).
      details: { status: answer.status, reason: answer.reason, attempt },
    });
    return { outcome: 'refused', status: answer.status };
  } finally {
    await guard.actions.release(actionId, token).catch(() => undefined);
  }
}
