/**
 * Destructive actions that tools register before running them (contract
 * section 4): the request schema, the stored record, and the state machine
 * behind registration, freeze, approval, cancellation and hold expiry. Pure:
 * every function takes values (the initiator's status, `now`, the policy
 * patterns) and returns the next state or a refusal; the store applies it
 * atomically.
 *
 * States and their transitions: one table, ./actionStates.ts.
 */
import { z } from 'zod';
import { canMove } from './actionStates.ts';
import { LastdayError } from './errors.ts';
import { firstMatch } from './glob.ts';
import type { PersonRecord, PersonStatus } from './person.ts';
import { statusOf } from './person.ts';

export const ACTION_STATES = ['pending', 'held', 'approved', 'executed', 'cancelled'] as const;
export type ActionState = (typeof ACTION_STATES)[number];

/** Largest `payload`, as serialized JSON, kept with an action. */
export const PAYLOAD_MAX_BYTES = 64 * 1024;

const id = z.string().min(1).max(200);
const isoInstant = z.iso.datetime({ offset: true, message: 'expected an ISO-8601 instant with offset' });

export const actionRequestSchema = z
  .object({
    actionId: id,
    initiatorId: id,
    kind: z.string().min(1).max(200),
    target: z.string().min(1).max(2000),
    executeAt: isoInstant.optional(),
    callbackUrl: z
      .url({ protocol: /^https?$/, message: 'expected an http(s) URL' })
      .max(2000)
      .optional(),
    payload: z.unknown().optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.payload === undefined) return;
    const size = new TextEncoder().encode(JSON.stringify(value.payload) ?? '').length;
    if (size > PAYLOAD_MAX_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['payload'],
        message: `at most ${PAYLOAD_MAX_BYTES} bytes of JSON (got ${size})`,
      });
    }
  });

export type ActionRequest = z.infer<typeof actionRequestSchema>;

/** An action as stored. Instants are ISO-8601 UTC strings. */
export interface ActionRecord {
  actionId: string;
  initiatorId: string;
  kind: string;
  target: string;
  executeAt?: string;
  callbackUrl?: string;
  payload?: unknown;
  state: ActionState;
  reason: string;
  createdAt: string;
  updatedAt: string;
  heldAt?: string;
  approvedBy?: string;
  approvedAt?: string;
  cancelledBy?: string;
  cancelledAt?: string;
  executedAt?: string;
  /** The first `allow` the gate gave (audited once). */
  allowedAt?: string;
  /**
   * Set just before lastday sends the callback and cleared when its outcome is
   * recorded: a run that finds it set (the last executor died mid-call) cannot
   * know whether the far side acted, so it does not call again (jobs/actions.ts).
   */
  callStartedAt?: string;
}

/**
 * The initiator's status as the guard sees it. A person lastday has no HR record
 * of counts as active, and so does a cancelled offboarding (unless it was
 * called off after `revoke`: that person stays revoked). `freezeMark` is the
 * plan version the freeze hook last ran for: from the moment the hook starts
 * until the milestone is saved as done, the person already counts as frozen,
 * so nothing registered in between escapes the freeze.
 */
export type GuardStatus = 'active' | Exclude<PersonStatus, 'cancelled' | 'reinstated'>;

export function guardStatus(record: PersonRecord | undefined, freezeMark: string | null): GuardStatus {
  if (!record) return 'active';
  // Revoked, then called off: still disabled until a person re-enables them (contract section 3).
  if (record.reinstatementRequired) return 'revoked';
  const status = statusOf(record);
  if (status === 'cancelled') return 'active';
  const open = status === 'scheduled' || status === 'reduced' || status === 'reinstated';
  if (open && freezeMark === String(record.planVersion)) return 'frozen';
  // Reinstated: re-enabled by a two-person decision, active again.
  if (status === 'reinstated') return 'active';
  return status;
}

/** Whether the guard treats the person as a leaver whose actions must not run. */
export function isLeaving(status: GuardStatus): boolean {
  return status === 'frozen' || status === 'revoked';
}

/** Whether the person may not approve: their own offboarding reached `reduce`. */
export function isDeparting(status: GuardStatus): boolean {
  return status === 'reduced' || status === 'frozen' || status === 'revoked';
}

/** The state a freeze moves a pending action to: cancelled when its kind matches `cancelOnFreeze`. */
export function freezeOutcome(
  kind: string,
  cancelOnFreeze: readonly string[],
): { state: 'held' | 'cancelled'; reason: string } {
  const pattern = firstMatch(cancelOnFreeze, kind);
  return pattern
    ? { state: 'cancelled', reason: `initiator frozen; kind matches cancelOnFreeze ${pattern}` }
    : { state: 'held', reason: 'initiator frozen: held until a second person approves' };
}

/**
 * Checks an approval. The approver comes from the caller's credentials, never
 * from the request body.
 * @throws LastdayError self_approval, approver_departing, conflict
 */
export function checkApproval(
  action: Pick<ActionRecord, 'actionId' | 'initiatorId' | 'state'>,
  approverId: string,
  approverStatus: GuardStatus,
): { already: boolean } {
  if (approverId === action.initiatorId) {
    throw new LastdayError(
      'self_approval',
      `${approverId} started ${action.actionId} and may not approve it`,
    );
  }
  if (isDeparting(approverStatus)) {
    throw new LastdayError(
      'approver_departing',
      `${approverId} is offboarding (${approverStatus}) and may not approve actions`,
    );
  }
  if (action.state === 'approved') return { already: true };
  if (!canMove(action.state, 'approved')) {
    throw new LastdayError('conflict', `action ${action.actionId} is ${action.state}`);
  }
  return { already: false };
}

/**
 * Checks a cancellation: anything not yet executed can be cancelled.
 * @throws LastdayError conflict
 */
export function checkCancel(action: Pick<ActionRecord, 'actionId' | 'state'>): { already: boolean } {
  if (action.state === 'cancelled') return { already: true };
  if (!canMove(action.state, 'cancelled')) {
    throw new LastdayError('conflict', `action ${action.actionId} was executed already`);
  }
  return { already: false };
}

/** When a hold is cancelled for want of a decision. */
export function holdExpiresAt(heldAt: string, holdExpiryHours: number): number {
  return Date.parse(heldAt) + holdExpiryHours * 3_600_000;
}

/**
 * Whether the action is managed (lastday calls its callback) and when: at
 * `executeAt`, or at once when only a callback is given.
 */
export function executionDueAt(action: Pick<ActionRecord, 'callbackUrl' | 'executeAt' | 'createdAt'>) {
  if (!action.callbackUrl) return undefined;
  return Date.parse(action.executeAt ?? action.createdAt);
}

/**
 * How long before its instant a run of a managed action's callback would be
 * (ms), or undefined when it is due. lastday's own actions (a reinstatement)
 * run once approved, so they are never early. An `execute` job that runs
 * early (promoted in the dashboard, added by any BullMQ client) goes back.
 */
export function executionEarlyBy(
  action: Pick<ActionRecord, 'callbackUrl' | 'executeAt' | 'createdAt'>,
  nowMs: number,
): number | undefined {
  const due = executionDueAt(action);
  return due !== undefined && due > nowMs ? due - nowMs : undefined;
}

/** A callback URL's origin against `callbackAllowlist` (unset: any http(s) URL). */
export function callbackAllowed(url: string, allowlist: readonly string[] | undefined): boolean {
  if (!allowlist) return true;
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return false;
  }
  return firstMatch(allowlist, origin) !== undefined;
}

/**
 * The canonical form of a registration, compared when the same actionId is
 * posted again: equal forms are the same request (idempotent), different ones
 * a conflict. Keys are sorted at every depth so field order does not matter.
 */
export function canonicalRequest(request: ActionRequest): string {
  return canonicalJson({
    ...request,
    ...(request.executeAt ? { executeAt: new Date(request.executeAt).toISOString() } : {}),
  });
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The public view of an action (GET /v1/actions/:id, holds). */
export function actionView(action: ActionRecord, holdExpiryHours: number) {
  return {
    actionId: action.actionId,
    initiatorId: action.initiatorId,
    kind: action.kind,
    target: action.target,
    state: action.state,
    reason: action.reason,
    ...(action.executeAt ? { executeAt: action.executeAt } : {}),
    ...(action.callbackUrl ? { callbackUrl: action.callbackUrl } : {}),
    ...(action.payload !== undefined ? { payload: action.payload } : {}),
    createdAt: action.createdAt,
    updatedAt: action.updatedAt,
    ...(action.heldAt ? { heldAt: action.heldAt } : {}),
    ...(action.state === 'held' && action.heldAt
      ? { expiresAt: new Date(holdExpiresAt(action.heldAt, holdExpiryHours)).toISOString() }
      : {}),
    ...(action.approvedBy ? { approvedBy: action.approvedBy, approvedAt: action.approvedAt } : {}),
    ...(action.cancelledBy ? { cancelledBy: action.cancelledBy, cancelledAt: action.cancelledAt } : {}),
    ...(action.executedAt ? { executedAt: action.executedAt } : {}),
  };
}

export type ActionView = ReturnType<typeof actionView>;
