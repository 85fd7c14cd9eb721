/**
 * Registration of a destructive action (POST /v1/actions). The initial state
 * is the gate's own answer for a pending action: held at once when the
 * initiator is frozen or revoked or the target is protected.
 *
 * One round trip decides and records: the decision (and its audit entry) is
 * made on the initiator's expected guard status, and the registration script
 * computes the actual status from the person's record and freeze mark and
 * writes only if they agree; otherwise it answers with the actual status and
 * the decision is made again on it. So a registration racing a freeze can
 * never slip in as pending after the freeze drained the person's actions. The
 * expectation is the status this process saw for the initiator in the last
 * seconds (./statusHints.ts), or read first for one it did not: a stale one
 * costs one more trip, never a wrong decision.
 */
import {
  type ActionRecord,
  type ActionRequest,
  type ActionState,
  actionRequestSchema,
  callbackAllowed,
  canonicalRequest,
  executionDueAt,
} from '../domain/action.ts';
import { LastdayError } from '../domain/errors.ts';
import { decide } from '../domain/gate.ts';
import { firstMatch } from '../domain/glob.ts';
import { RESERVED_KIND_PREFIX } from '../domain/reinstatement.ts';
import { toIssues } from '../domain/zodIssues.ts';
import { scheduleExecution } from '../queues/actions.ts';
import { requestHash } from '../store/actions.ts';
import type { Actor, GuardService, RegisterAnswer } from './service.ts';

/** Registration re-decides when the initiator's record moves under it; this bounds the loop. */
const REGISTER_ATTEMPTS = 10;

/**
 * The same actionId again is answered from the stored action (idempotent), or
 * refused as a conflict when the body differs.
 * @throws LastdayError invalid_request, conflict
 */
export async function registerAction(
  guard: GuardService,
  raw: unknown,
  actor: Actor,
): Promise<RegisterAnswer> {
  const { ctx, actions } = guard;
  const config = ctx.settings.config;
  const parsed = actionRequestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new LastdayError('invalid_request', 'the action is invalid', toIssues(parsed.error));
  }
  const request = parsed.data;
  if (request.kind.startsWith(RESERVED_KIND_PREFIX)) {
    // lastday executes these itself (a reinstatement): only its own routes register them.
    throw new LastdayError('invalid_request', `kinds under ${RESERVED_KIND_PREFIX} are lastday's own`, [
      {
        path: 'kind',
        message: `reserved prefix ${RESERVED_KIND_PREFIX}; use POST /v1/people/:personId/reinstatement`,
      },
    ]);
  }
  if (request.callbackUrl && !callbackAllowed(request.callbackUrl, config.callbackAllowlist)) {
    throw new LastdayError('invalid_request', 'callbackUrl is outside callbackAllowlist', [
      { path: 'callbackUrl', message: 'origin not in callbackAllowlist' },
    ]);
  }
  const hash = requestHash(canonicalRequest(request));
  // With partitions, another initiator's action of this id is in another
  // partition: the id is claimed across all of them first (store/actionIndex.ts).
  if (ctx.actionIndex) {
    const home = await ctx.actionIndex.claim(request.actionId, request.initiatorId);
    if (home !== request.initiatorId) throw differentBody(request.actionId);
  }
  const protectedBy = firstMatch(config.protectedTargets, request.target);
  let status = await guard.statusHints.expect(request.initiatorId, () =>
    actions.guardStatusOf(request.initiatorId),
  );
  for (let attempt = 0; attempt < REGISTER_ATTEMPTS; attempt++) {
    const gate = decide({
      action: { state: 'pending', initiatorId: request.initiatorId },
      initiatorStatus: status,
      protectedBy,
    });
    const now = ctx.now().toISOString();
    const state: ActionState = gate.decision === 'hold' ? 'held' : 'pending';
    const record = newRecord(request, state, gate.reason, now);
    const result = await actions.register(record, hash, status, {
      at: now,
      type: 'action.registered',
      actor: actor.name,
      personId: request.initiatorId,
      actionId: request.actionId,
      details: {
        kind: request.kind,
        target: request.target,
        state,
        reason: gate.reason,
        initiatorStatus: status,
        ...(protectedBy ? { protectedBy } : {}),
        ...(record.executeAt ? { executeAt: record.executeAt } : {}),
        ...(record.callbackUrl ? { callbackUrl: record.callbackUrl } : {}),
      },
    });
    if (result.outcome === 'retry') {
      status = result.status;
      guard.statusHints.set(request.initiatorId, status);
      continue;
    }
    if (result.outcome === 'created') guard.statusHints.set(request.initiatorId, status);
    if (result.outcome === 'exists') {
      if (result.requestHash !== hash) {
        throw differentBody(request.actionId);
      }
      // A repeat may follow a first attempt that failed after saving: make sure its jobs exist.
      const stored = await actions.get(request.actionId);
      if (stored) await scheduleJobs(guard, stored);
      // Likewise its notification: the job id is the hold's, so a repeat queues nothing new.
      if (stored?.state === 'held') await guard.notifyHeld([stored.actionId], request.initiatorId);
      return { actionId: request.actionId, state: result.state, reason: result.reason };
    }
    await scheduleJobs(guard, record);
    // The rare path: only now is the initiator's record read (for the message).
    if (record.state === 'held') await guard.notifyHeld([record.actionId], request.initiatorId);
    return { actionId: request.actionId, state, reason: gate.reason };
  }
  throw new LastdayError('conflict', `the record of ${request.initiatorId} kept changing; retry`);
}

function differentBody(actionId: string): LastdayError {
  return new LastdayError(
    'conflict',
    `action ${actionId} exists with a different body; action ids are single-use`,
  );
}

/** The jobs an action needs (deterministic ids: scheduling twice is a no-op). */
async function scheduleJobs(guard: GuardService, record: ActionRecord): Promise<void> {
  if (record.state === 'held' && record.heldAt)
    await guard.scheduleHoldExpiry([record.actionId], record.heldAt);
  const due = executionDueAt(record);
  if (due !== undefined && (record.state === 'pending' || record.state === 'held')) {
    await scheduleExecution(guard.queue, record.actionId, due, guard.ctx.now().getTime(), 'scheduled');
  }
}

function newRecord(request: ActionRequest, state: ActionState, reason: string, now: string): ActionRecord {
  return {
    actionId: request.actionId,
    initiatorId: request.initiatorId,
    kind: request.kind,
    target: request.target,
    ...(request.executeAt ? { executeAt: new Date(request.executeAt).toISOString() } : {}),
    ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}),
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
    state,
    reason,
    createdAt: now,
    updatedAt: now,
    ...(state === 'held' ? { heldAt: now } : {}),
  };
}
