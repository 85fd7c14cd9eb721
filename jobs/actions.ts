/**
 * Processor of the `actions` queue: `execute` jobs call a managed action's
 * callback at its instant when the gate allows; `expire` jobs cancel holds
 * nobody decided within `policy.holdExpiryHours`.
 *
 * Execute: each action's callback succeeds at most once. A run after a success
 * finds `executed` and calls nothing; two runs at once are kept apart by a
 * per-action claim; `executed` is written atomically with its audit entry.
 * `callStartedAt` is written before the request leaves and cleared with its
 * outcome, so a run that finds it (the last executor was killed mid-call), and
 * a call that got no answer after the request went out (timeout, reset), do not
 * call again: the outcome is unknown, the far side may have acted, so the action
 * becomes `held` for an approver (outcomeUnknown). A failure that certainly
 * never reached the far side (connection refused, no such host) or a failure it
 * answered (5xx, 408, 429) is thrown so BullMQ retries with backoff; the last
 * failed attempt raises an alert. A 2xx that comes back after the action was
 * cancelled leaves it cancelled (cancel is final, src/domain/actionStates.ts)
 * and is audited as `action.executed_after_cancel` with an alert.
 *
 * Never early: an `execute` job that runs before its action's `executeAt`
 * (promoted in the dashboard, added by any BullMQ client) goes back to that
 * instant and is audited `action.early_run`; no callback leaves. A job of
 * another name, or whose data is not an action id, fails without a retry.
 *
 * Expire: one action, or every action of a freeze batch. A job that fires early
 * (clock skew between processes) waits for the rest; an action found decided is
 * left alone, so a rerun changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { type ActionRecord, executionEarlyBy } from '../src/domain/action.ts';
import { sourcesOf } from '../src/domain/actionStates.ts';
import { decisionNow } from '../src/domain/duePrefix.ts';
import { auditPersonOf, reinstatedPersonOf } from '../src/domain/reinstatement.ts';
import {
  auditableUrl,
  type CallbackAnswer,
  callCallback,
  callFailureReason,
  isRetryableStatus,
  wasNotSent,
} from '../src/guard/callback.ts';
import { executeReinstatement, type ReinstateOutcome } from '../src/guard/reinstate.ts';
import { ExecutionRetry } from '../src/guard/retry.ts';
import type { GuardService } from '../src/guard/service.ts';
import type { ActionJobData } from '../src/queues/actions.ts';
import type { JobPorts } from './ports.ts';

/** Longest a callback call may take; the claim outlives it. */
export const CALLBACK_TIMEOUT_MS = 10_000;

export type ExecutePorts = Pick<JobPorts, 'guard' | 'audit' | 'alerts' | 'log' | 'now' | 'referenceNowMs'> & {
  /** LASTDAY_ACTION_SECRET: signs the callback call. */
  actionSecret: string | undefined;
};

export type ExecuteOutcome =
  | { outcome: 'executed'; status: number }
  | ReinstateOutcome
  | { outcome: 'held' | 'cancelled' | 'executed_already' | 'not_managed' | 'no_secret'; reason: string }
  | { outcome: 'refused' | 'executed_after_cancel'; status: number };

/** A callback failure worth retrying (network error, 5xx, 408, 429). */
export class CallbackRetry extends ExecutionRetry {
  override readonly name = 'CallbackRetry';
}

export function createActionsProcessor(ports: ExecutePorts) {
  const execute = createExecuteProcessor(ports);
  const expire = createExpireProcessor(ports.guard);
  return async (job: Job<ActionJobData>, token?: string) => {
    // Any BullMQ client can write this queue: only lastday's two job shapes run.
    const why = malformed(job);
    if (why) {
      ports.log.error({ jobId: job.id, jobName: job.name, why }, 'actions job refused');
      throw new UnrecoverableError(`actions job refused: ${why}`);
    }
    return job.name === 'expire' ? expire(job, token) : execute(job, token);
  };
}

/** Why a job is not one lastday adds to the `actions` queue (undefined: it is). */
function malformed(job: Job<ActionJobData>): string | undefined {
  if (job.name !== 'execute' && job.name !== 'expire') return `unknown job name ${JSON.stringify(job.name)}`;
  const data = job.data as Partial<Record<keyof ActionJobData, unknown>> | null;
  if (typeof data?.actionId !== 'string' || data.actionId === '') return 'actionId: expected a string';
  const ids = data.actionIds;
  if (
    ids !== undefined &&
    (job.name !== 'expire' || !Array.isArray(ids) || !ids.every((i) => typeof i === 'string'))
  ) {
    return 'actionIds: expected a list of strings on an expire job';
  }
  return undefined;
}

export function createExecuteProcessor(ports: ExecutePorts) {
  return async (job: Job<ActionJobData>, token?: string): Promise<ExecuteOutcome> => {
    const { actionId } = job.data;
    const attempt = job.attemptsMade + 1;
    // Never before executeAt, whoever made the job run now (contract section 4).
    await putBackIfEarly(ports, job, token);
    try {
      const result = await executeAction(ports, actionId, attempt);
      ports.log.info({ actionId, attempt, ...result }, 'managed action run');
      return result;
    } catch (err) {
      const last = attempt >= (job.opts.attempts ?? 1);
      if (err instanceof ExecutionRetry && last) {
        await ports.alerts.raise({
          kind: 'action_callback_failed',
          message: `${err.message}; giving up after ${attempt} attempts`,
          actionId,
          details: { attempts: attempt },
        });
      }
      throw err;
    }
  };
}

export async function executeAction(
  ports: ExecutePorts,
  actionId: string,
  attempt: number,
): Promise<ExecuteOutcome> {
  const { guard, audit, alerts, now } = ports;
  const decision = await guard.gate(actionId, { name: 'lastday' });
  if (decision.decision !== 'allow') {
    if (decision.state === 'executed') return { outcome: 'executed_already', reason: decision.reason };
    // On the record: lastday was due to run it and did not, and why.
    const skipped = await guard.actions.get(actionId);
    await audit.append({
      at: now().toISOString(),
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
  const secret = ports.actionSecret;
  if (!secret) {
    await alerts.raise({
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
    // At most once: an earlier executor marked the call and never recorded how
    // it ended (killed mid-call). The far side may have acted; only a person
    // who has checked may let it run again.
    if (action.callStartedAt) {
      return outcomeUnknown(
        ports,
        action,
        attempt,
        `an earlier attempt (started ${action.callStartedAt}) ended without recording its answer`,
      );
    }
    if (!(await guard.actions.markCallStarted(actionId, action.state, now().toISOString()))) {
      throw new CallbackRetry(`action ${actionId} changed before its callback was sent`);
    }
    let answer: CallbackAnswer;
    try {
      answer = await callCallback(action, secret, { timeoutMs: CALLBACK_TIMEOUT_MS, now });
    } catch (err) {
      const reason = callFailureReason(err);
      if (!wasNotSent(err)) {
        return outcomeUnknown(
          ports,
          action,
          attempt,
          `the callback ${reason === 'timeout' ? 'timed out' : `failed (${reason})`} after the request was sent`,
        );
      }
      await guard.actions.clearCallStarted(actionId);
      throw new CallbackRetry(`callback of ${actionId} failed: ${reason}`);
    }
    if (answer.status >= 200 && answer.status < 300) {
      const at = now().toISOString();
      const details = { status: answer.status, attempt, callbackUrl: auditableUrl(action.callbackUrl) };
      // The call happened: record it from whatever state the table lets become executed.
      const moved = await guard.actions.transition(
        action,
        sourcesOf('executed'),
        'executed',
        { executedAt: at, updatedAt: at, reason: `callback answered ${answer.status}`, callStartedAt: null },
        { at, type: 'action.executed', actor: 'lastday', personId: action.initiatorId, actionId, details },
      );
      if (moved.outcome === 'state' && moved.state === 'cancelled') {
        // Cancelled while the call was in flight: cancel is final, so the action
        // stays cancelled, and someone must learn that the far side acted anyway.
        await audit.append({
          at,
          type: 'action.executed_after_cancel',
          actor: 'lastday',
          personId: action.initiatorId,
          actionId,
          details,
        });
        await alerts.raise({
          kind: 'action_executed_after_cancel',
          message: `the callback of ${actionId} answered ${answer.status} after the action was cancelled`,
          actionId,
          details: { status: answer.status, attempt },
        });
        return { outcome: 'executed_after_cancel', status: answer.status };
      }
      return { outcome: 'executed', status: answer.status };
    }
    // Answered, and not a success: the far side says it did not act.
    await guard.actions.clearCallStarted(actionId);
    if (isRetryableStatus(answer.status)) {
      throw new CallbackRetry(`callback of ${actionId} answered ${answer.status} ${answer.reason}`);
    }
    await audit.append({
      at: now().toISOString(),
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

/**
 * Sends an `execute` job that runs before its action's `executeAt` (promoted
 * in the dashboard, added by hand, a worker clock ahead) back to that instant,
 * and audits the early run; returns when the action is due (or gone: the run
 * then finds nothing to call). BullMQ delays count from the worker's own clock,
 * so the job comes back after "how early", as for milestones.
 */
async function putBackIfEarly(
  ports: Pick<ExecutePorts, 'guard' | 'audit' | 'log' | 'now' | 'referenceNowMs'>,
  job: Job<ActionJobData>,
  token: string | undefined,
): Promise<void> {
  const [action, referenceNowMs] = await Promise.all([
    ports.guard.actions.get(job.data.actionId),
    ports.referenceNowMs?.(),
  ]);
  // As for milestones: a worker clock ahead of Redis's by more than the
  // tolerance does not make the job due (src/domain/duePrefix.ts).
  const workerNowMs = ports.now().getTime();
  const nowMs = decisionNow(workerNowMs, referenceNowMs);
  const earlyMs = action ? executionEarlyBy(action, nowMs) : undefined;
  if (!action || earlyMs === undefined) return;
  const details = {
    jobId: job.id,
    jobName: job.name,
    executeAt: action.executeAt ?? action.createdAt,
    now: new Date(nowMs).toISOString(),
    earlyMs,
    attempt: job.attemptsStarted,
    workerNow: new Date(workerNowMs).toISOString(),
    ...(referenceNowMs !== undefined ? { redisNow: new Date(referenceNowMs).toISOString() } : {}),
  };
  await ports.audit.append({
    at: new Date(nowMs).toISOString(),
    type: 'action.early_run',
    actor: 'lastday',
    personId: auditPersonOf(action),
    actionId: action.actionId,
    details,
  });
  ports.log.warn({ actionId: action.actionId, ...details }, 'action job ran before executeAt; put back');
  await job.moveToDelayed(Date.now() + earlyMs, token);
  throw new DelayedError();
}

/**
 * The callback was sent (or may have been) and its answer never recorded: the
 * far side may have acted, so lastday does not call again on its own. The
 * action becomes `held` (reason says why; `callStartedAt` cleared), audited
 * `action.callback_outcome_unknown`, alerted, and its hold expires as any
 * other; an approver who has checked the far side approves it (it then runs
 * again at once) or cancels it. An action that reached a final state in the
 * meantime keeps it.
 */
async function outcomeUnknown(
  ports: ExecutePorts,
  action: ActionRecord,
  attempt: number,
  why: string,
): Promise<ExecuteOutcome> {
  const { guard, alerts, now } = ports;
  const at = now().toISOString();
  const reason = `callback outcome unknown: ${why}; approve to call again, or cancel`;
  // Expiry job first (as the gate and freeze do): if it fails, nothing changed
  // and the retry decides again; an expiry job for an action that is not held
  // does nothing.
  await guard.scheduleHoldExpiry([action.actionId], at);
  const moved = await guard.actions.transition(
    action,
    // Held already (a freeze while the call was out): it stays held, with this reason.
    [...sourcesOf('held'), 'held'],
    'held',
    { heldAt: at, updatedAt: at, reason, callStartedAt: null },
    {
      at,
      type: 'action.callback_outcome_unknown',
      actor: 'lastday',
      personId: auditPersonOf(action),
      actionId: action.actionId,
      details: {
        why,
        attempt,
        ...(action.callStartedAt ? { callStartedAt: action.callStartedAt } : {}),
        callbackUrl: auditableUrl(action.callbackUrl!),
      },
    },
  );
  if (moved.outcome !== 'ok') {
    // Executed or cancelled meanwhile (final: it keeps that), or gone.
    await guard.actions.clearCallStarted(action.actionId);
    if (moved.outcome === 'state' && moved.state === 'executed')
      return { outcome: 'executed_already', reason: 'executed already' };
    if (moved.outcome === 'state' && moved.state === 'cancelled')
      return { outcome: 'cancelled', reason: 'cancelled' };
    return { outcome: 'not_managed', reason: 'the action is gone' };
  }
  // Approvers hear of it as of any new hold (never throws); ops through the alert.
  await guard.notifyHeld([action.actionId], action.initiatorId);
  await alerts.raise({
    kind: 'action_callback_outcome_unknown',
    message: `the callback of ${action.actionId} may have run (${why}); it is held until an approver decides`,
    actionId: action.actionId,
    details: { attempt },
  });
  return { outcome: 'held', reason };
}

export function createExpireProcessor(guard: Pick<GuardService, 'expire'>) {
  return async (job: Job<ActionJobData>, token?: string) => {
    const ids = job.data.actionIds ?? [job.data.actionId];
    let expired = 0;
    let notDueUntil = 0;
    for (const id of ids) {
      const result = await guard.expire(id);
      if (result.outcome === 'expired') expired++;
      if (result.outcome === 'not_due') notDueUntil = Math.max(notDueUntil, result.dueMs);
    }
    if (notDueUntil > 0) {
      await job.moveToDelayed(notDueUntil, token);
      throw new DelayedError();
    }
    return { outcome: expired > 0 ? 'expired' : 'not_held', expired, checked: ids.length };
  };
}
