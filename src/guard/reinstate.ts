/**
 * Reinstatement through the guard (contract v1.1 section 3): the request
 * registers a `lastday.reinstate` action like any other, through the same
 * store script and audit, but always `held`; approval follows the guard's
 * rules (service.ts: not the requester, not a departing person); and the
 * approved action is executed by lastday itself on the `actions` queue (no
 * callback), with BullMQ's capped backoff between attempts.
 *
 * Idempotency: one open request per person. A request while one is pending,
 * held or approved answers that action (200) instead of registering another;
 * requests are serialised under the person lock. The execution runs under the
 * person lock too, so no milestone job of the person interleaves with it, and
 * each connector step is recorded once (src/effects/reinstate.ts).
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { ActionRecord, ActionView } from '../domain/action.ts';
import { guardStatus } from '../domain/action.ts';
import { sourcesOf } from '../domain/actionStates.ts';
import { LastdayError } from '../domain/errors.ts';
import type { PersonRecord } from '../domain/person.ts';
import {
  checkReinstatable,
  REINSTATE_KIND,
  reinstatedPersonOf,
  reinstatedRecord,
  reinstateTarget,
  reinstatementRequestSchema,
  withOpenMilestonesCancelled,
} from '../domain/reinstatement.ts';
import { toIssues } from '../domain/zodIssues.ts';
import { EffectFailure, reinstateAccess } from '../effects/connectorEffects.ts';
import { horizonMs, scheduleMilestones } from '../queues/milestones.ts';
import { requestHash } from '../store/actions.ts';
import { ExecutionRetry } from './retry.ts';
import type { Actor, GuardService } from './service.ts';

/** How long a request waits for the person lock (a milestone job holds it briefly). */
const LOCK_WAIT_MS = 5_000;

export interface ReinstatementAnswer {
  /** False when an open request existed already and is answered instead. */
  created: boolean;
  action: ActionView;
}

/**
 * POST /v1/people/:personId/reinstatement: registers the held action, or
 * answers the open one.
 * @throws LastdayError forbidden (no personId on the token), invalid_request,
 *   not_found, conflict (not revoked, already reinstated, window closed)
 */
export async function requestReinstatement(
  guard: GuardService,
  personId: string,
  body: unknown,
  actor: Actor,
): Promise<ReinstatementAnswer> {
  const requester = actor.personId;
  if (!requester) {
    throw new LastdayError(
      'forbidden',
      `token ${actor.name} has no personId, so it cannot request a reinstatement`,
    );
  }
  const parsed = reinstatementRequestSchema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new LastdayError('invalid_request', 'the reinstatement request is invalid', toIssues(parsed.error));
  }
  const { ctx } = guard;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const result = await ctx.lock.withLock(personId, () =>
      registerLocked(guard, personId, requester, parsed.data.reason, actor),
    );
    if (result.locked) return result.value;
    if (Date.now() > deadline) throw new LastdayError('conflict', `${personId} is busy; retry`);
    await new Promise((r) => setTimeout(r, 25 + Math.random() * 25));
  }
}

async function registerLocked(
  guard: GuardService,
  personId: string,
  requester: string,
  reason: string,
  actor: Actor,
): Promise<ReinstatementAnswer> {
  const { ctx, actions } = guard;
  const record = await ctx.people.get(personId);
  if (!record) throw new LastdayError('not_found', `no HR record for person ${personId}`);

  const openId = await actions.reinstatementOf(personId);
  const open = openId ? await actions.get(openId) : undefined;
  if (open && (open.state === 'pending' || open.state === 'held' || open.state === 'approved')) {
    return { created: false, action: await guard.get(open.actionId) };
  }

  const check = checkReinstatable(record, ctx.policy.reinstateWithinDays, ctx.now());
  if (!check.ok) throw new LastdayError('conflict', check.message, undefined, { reason: check.reason });

  const actionId = `reinstate.${randomUUID()}`;
  const payload = {
    personId,
    reason,
    cycle: record.cycle,
    planVersion: record.planVersion,
    revokedAt: check.revokedAt,
    windowEndsAt: check.windowEndsAt,
  };
  const heldReason = 'reinstatement: held until a second person approves';
  // A fresh id, filed under the person reinstated (its partition holds it).
  await ctx.actionIndex?.claim(actionId, personId);
  for (let attempt = 0; attempt < 5; attempt++) {
    // The requester's record and freeze mark live in the requester's partition,
    // which need not be the reinstated person's (where the action is filed).
    const initiator = await guard.guardInputsOf(requester);
    const initiatorStatus = guardStatus(initiator.record, initiator.mark);
    const now = ctx.now().toISOString();
    const action: ActionRecord = {
      actionId,
      initiatorId: requester,
      kind: REINSTATE_KIND,
      target: reinstateTarget(personId),
      payload,
      state: 'held',
      reason: heldReason,
      createdAt: now,
      updatedAt: now,
      heldAt: now,
    };
    // Not re-checked by the store's script: it reads the initiator in this (the
    // reinstated person's) partition, where the requester need not be; and the
    // action is held whatever the status, so no freeze has it to drain.
    const registered = await actions.register(
      action,
      requestHash(JSON.stringify({ actionId, personId, requester, reason })),
      undefined,
      {
        at: now,
        type: 'action.registered',
        actor: actor.name,
        // Filed under the person reinstated (domain/reinstatement.ts auditPersonOf).
        personId,
        actionId,
        details: {
          kind: REINSTATE_KIND,
          target: action.target,
          state: 'held',
          reason: heldReason,
          requestedBy: requester,
          initiatorStatus,
          reinstatement: { reason, revokedAt: check.revokedAt, windowEndsAt: check.windowEndsAt },
        },
      },
    );
    if (registered.outcome === 'retry') continue;
    await actions.setReinstatementOf(personId, actionId);
    await guard.scheduleHoldExpiry([actionId], now);
    // A new hold tells the approvers, as every hold does (never blocks the request).
    await ctx.notifier.holds([{ ...action, heldAt: now }], initiator.record);
    ctx.log.info(
      { personId, actionId, requestedBy: requester },
      'reinstatement requested; held for a second person',
    );
    return { created: true, action: await guard.get(actionId) };
  }
  throw new LastdayError('conflict', `the record of ${requester} kept changing; retry`);
}

/**
 * Checked when a reinstatement is approved: the person must still be
 * reinstatable now (revoked, within the window). The window closing, or an
 * HR event since the request that started a new departure (its revoke not
 * done), makes the approval a 409.
 */
export async function checkReinstatementApproval(guard: GuardService, action: ActionRecord): Promise<void> {
  const personId = reinstatedPersonOf(action);
  if (personId === undefined) return;
  const record = await guard.ctx.people.get(personId);
  if (!record) throw new LastdayError('not_found', `no HR record for person ${personId}`);
  if (record.reinstatement?.actionId === action.actionId) return;
  const check = checkReinstatable(record, guard.ctx.policy.reinstateWithinDays, guard.ctx.now());
  if (!check.ok) throw new LastdayError('conflict', check.message, undefined, { reason: check.reason });
}

/** Whether this cycle's reinstatement has enabled the account in some connector already. */
async function enabledSomewhere(ctx: GuardService['ctx'], record: PersonRecord): Promise<boolean> {
  const effect = `c${record.cycle}.enable`;
  const states = await ctx.effects.states(
    record.person.id,
    ctx.connectors.map((c) => [effect, c.name] as const),
  );
  return states.some((s) => s === 'enabled');
}

export type ReinstateOutcome =
  | { outcome: 'executed'; reinstated: true; approvalToEnabledMs?: number }
  | { outcome: 'executed_already' | 'refused'; reason: string };

/**
 * Carries out an approved reinstatement (the `execute` job of the action):
 * under the person lock, cancels what is still open in the plan (a `verify`
 * must not disable them again), enables and restores in every connector, saves
 * the person `reinstated`, then records the action `executed`. A connector
 * failure throws ExecutionRetry: BullMQ retries with backoff, and the retry
 * skips what is recorded.
 */
export async function executeReinstatement(
  guard: GuardService,
  action: ActionRecord,
  attempt: number,
): Promise<ReinstateOutcome> {
  const { ctx } = guard;
  const personId = reinstatedPersonOf(action)!;
  const locked = await ctx.lock.withLock(personId, () => reinstateLocked(guard, action, personId, attempt));
  if (!locked.locked) throw new ExecutionRetry(`reinstatement of ${personId}: the person is busy`);
  const result = locked.value;
  if (result.outcome === 'refused') return result;
  const now = ctx.now().toISOString();
  // From whatever state the table lets become executed. A cancel that came after
  // the first account was enabled did not stop the reinstatement (half-enabled is
  // worse), but cancel is final: the action stays cancelled and ops are told.
  const moved = await guard.actions.transition(
    action,
    sourcesOf('executed'),
    'executed',
    { executedAt: now, updatedAt: now, reason: 'reinstated by lastday' },
    {
      at: now,
      type: 'action.executed',
      actor: 'lastday',
      personId,
      actionId: action.actionId,
      details: { kind: REINSTATE_KIND, attempt, reinstated: true },
    },
  );
  if (moved.outcome === 'state' && moved.state === 'cancelled') {
    await ctx.alerts.raise({
      kind: 'action_executed_after_cancel',
      message: `reinstatement ${action.actionId} of ${personId} finished after it was cancelled: the person is enabled again`,
      personId,
      actionId: action.actionId,
      details: { kind: REINSTATE_KIND, attempt },
    });
  }
  return result;
}

async function reinstateLocked(
  guard: GuardService,
  action: ActionRecord,
  personId: string,
  attempt: number,
): Promise<ReinstateOutcome> {
  const { ctx } = guard;
  let record: PersonRecord | undefined = await ctx.people.get(personId);
  if (record?.reinstatement?.actionId === action.actionId) {
    return { outcome: 'executed_already', reason: `reinstated already at ${record.reinstatement.at}` };
  }
  // Once an account is enabled somewhere the reinstatement is finished whatever
  // happens meanwhile (a cancel, a new plan): half-enabled is the worst state.
  const started = record !== undefined && (await enabledSomewhere(ctx, record));
  const current = await guard.actions.get(action.actionId);
  if (!started) {
    // Judged at the approval: an approval inside the window is carried out even if retries cross its end.
    const decidedAt = new Date(action.approvedAt ?? ctx.now().toISOString());
    const check = record
      ? checkReinstatable(record, ctx.policy.reinstateWithinDays, decidedAt)
      : ({ ok: false, reason: 'not_revoked', message: `no HR record for person ${personId}` } as const);
    const why =
      current?.state !== 'approved'
        ? `the action is ${current?.state ?? 'gone'}`
        : !check.ok
          ? check.message
          : undefined;
    if (!record || why !== undefined) {
      const reason = why ?? 'no record';
      if (current?.state === 'approved') {
        await guard.cancel(action.actionId, { name: 'lastday' }, `cannot reinstate: ${reason}`);
      }
      return { outcome: 'refused', reason };
    }
  }
  if (!record) return { outcome: 'refused', reason: `no HR record for person ${personId}` };

  const nowIso = ctx.now().toISOString();
  const closed = withOpenMilestonesCancelled(record, nowIso);
  if (closed) {
    record = await ctx.people.save(closed.record, {
      at: nowIso,
      type: 'milestones.cancelled',
      actor: 'lastday',
      personId,
      actionId: action.actionId,
      details: { by: 'reinstatement', milestones: closed.cancelled },
    });
  }

  let outcomes;
  try {
    outcomes = await reinstateAccess(ctx, record, action.actionId);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.log.warn(
      { personId, actionId: action.actionId, attempt, err: message },
      'reinstatement attempt failed; will retry',
    );
    throw new ExecutionRetry(
      `reinstatement of ${personId}: ${message}`,
      err instanceof EffectFailure ? err : undefined,
    );
  }
  const enabled = outcomes.map((o) => o.enabledAt).filter((v): v is string => v !== undefined);
  const approvedMs = action.approvedAt ? Date.parse(action.approvedAt) : undefined;
  const lastEnabledMs = enabled.length > 0 ? Math.max(...enabled.map((t) => Date.parse(t))) : undefined;
  const approvalToEnabledMs =
    approvedMs !== undefined && lastEnabledMs !== undefined ? lastEnabledMs - approvedMs : undefined;
  const now = ctx.now();
  const at = now.toISOString();
  const next = reinstatedRecord(
    record,
    {
      actionId: action.actionId,
      requestedBy: action.initiatorId,
      approvedBy: action.approvedBy ?? '',
      reason: String((action.payload as { reason?: unknown } | undefined)?.reason ?? ''),
      at,
    },
    ctx.policy,
    DateTime.fromJSDate(now, { zone: 'utc' }),
  );
  const replanned = next.cycle !== record.cycle;
  const saved = await ctx.people.save(next, {
    at,
    type: 'person.reinstated',
    actor: 'lastday',
    personId,
    actionId: action.actionId,
    details: {
      requestedBy: action.initiatorId,
      approvedBy: action.approvedBy,
      approvedAt: action.approvedAt,
      cycle: record.cycle,
      attempt,
      ...(approvalToEnabledMs !== undefined ? { approvalToEnabledMs } : {}),
      connectors: outcomes,
      // HR had moved the departure into the future: planned afresh (see reinstatedRecord).
      ...(replanned
        ? {
            replanned: {
              cycle: next.cycle,
              planVersion: next.planVersion,
              endsAt: next.endsAt,
              milestones: next.milestones.map((m) => ({ name: m.name, dueAt: m.dueAt })),
            },
          }
        : {}),
    },
  });
  if (replanned)
    await scheduleMilestones(ctx.queues.milestones, saved, now.getTime(), horizonMs(ctx.settings));
  ctx.log.info({ personId, actionId: action.actionId, approvalToEnabledMs }, 'person reinstated');
  return {
    outcome: 'executed',
    reinstated: true,
    ...(approvalToEnabledMs !== undefined ? { approvalToEnabledMs } : {}),
  };
}
