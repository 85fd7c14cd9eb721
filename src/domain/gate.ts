/**
 * The gate: the one decision whether a registered destructive action may run
 * now. Pure and small, because every destructive operation of the tools that
 * call it waits on it; the store gathers its inputs in one Redis round trip.
 *
 * - cancelled or executed: deny (nothing runs twice, nothing cancelled runs).
 * - approved by an eligible second person: allow, whoever started it and
 *   whatever became of them since.
 * - pending: allow, unless the initiator is frozen or revoked, or the target is
 *   protected; then hold.
 * - held: hold until a second person approves.
 */
import type { ActionRecord, ActionState, GuardStatus } from './action.ts';
import { isLeaving } from './action.ts';

export type GateDecision = 'allow' | 'hold' | 'deny';

export interface GateInput {
  action: Pick<ActionRecord, 'state' | 'initiatorId' | 'approvedBy'>;
  /** The initiator's status now (see guardStatus). */
  initiatorStatus: GuardStatus;
  /** The `protectedTargets` pattern the target matches, if any. */
  protectedBy: string | undefined;
}

export interface GateResult {
  decision: GateDecision;
  /** The action's state once the decision is applied (a pending action that is held becomes `held`). */
  state: ActionState;
  reason: string;
}

export function decide({ action, initiatorStatus, protectedBy }: GateInput): GateResult {
  switch (action.state) {
    case 'cancelled':
      return { decision: 'deny', state: 'cancelled', reason: 'cancelled' };
    case 'executed':
      return { decision: 'deny', state: 'executed', reason: 'executed already; it runs once' };
    case 'approved':
      if (action.approvedBy !== undefined && action.approvedBy !== action.initiatorId) {
        return { decision: 'allow', state: 'approved', reason: `approved by ${action.approvedBy}` };
      }
      // Unreachable through the state machine; fail closed if the data says otherwise.
      return { decision: 'hold', state: 'held', reason: 'approved without an eligible second person' };
    case 'pending':
    case 'held': {
      const why = holdReasons(action.initiatorId, initiatorStatus, protectedBy);
      if (why.length > 0) return { decision: 'hold', state: 'held', reason: why.join('; ') };
      if (action.state === 'held') {
        return { decision: 'hold', state: 'held', reason: 'held until a second person approves' };
      }
      return { decision: 'allow', state: 'pending', reason: 'initiator active; target not protected' };
    }
  }
}

function holdReasons(initiatorId: string, status: GuardStatus, protectedBy: string | undefined): string[] {
  const why: string[] = [];
  if (isLeaving(status)) why.push(`initiator ${initiatorId} is ${status}`);
  if (protectedBy !== undefined) {
    why.push(`target matches protected pattern ${protectedBy}: needs a second person's approval`);
  }
  return why;
}
