/**
 * The action state machine as data (contract section 4): which state may
 * follow which. Every writer asks this table — registration, the gate, freeze,
 * approval, cancellation, hold expiry and managed execution — and none states
 * its own list, so two writers can no longer disagree.
 *
 * `executed` and `cancelled` are final. A callback that answers 2xx after the
 * action was cancelled does not make it executed: the call is recorded
 * (`action.executed_after_cancel`) and the action stays cancelled.
 */
import type { ActionState } from './action.ts';

/** The states each state may move to. */
export const ACTION_TRANSITIONS: Readonly<Record<ActionState, readonly ActionState[]>> = {
  pending: ['held', 'approved', 'executed', 'cancelled'],
  // A callback call the gate allowed may finish after a freeze held the action:
  // the call happened, so it is recorded as executed.
  held: ['approved', 'executed', 'cancelled'],
  // A call whose outcome nobody knows (the executor died mid-call, or the
  // answer never came) needs a new decision: held until someone approves again.
  approved: ['held', 'executed', 'cancelled'],
  executed: [],
  cancelled: [],
};

/** Whether `from` may move to `to`. */
export function canMove(from: ActionState, to: ActionState): boolean {
  return ACTION_TRANSITIONS[from].includes(to);
}

/** Every state that may move to `to`, in table order: what a writer passes as its expected states. */
export function sourcesOf(to: ActionState): ActionState[] {
  return (Object.keys(ACTION_TRANSITIONS) as ActionState[]).filter((from) => canMove(from, to));
}

/** Whether nothing may leave `state`. */
export function isFinal(state: ActionState): boolean {
  return ACTION_TRANSITIONS[state].length === 0;
}

/** `from` narrowed to the states the table lets move to `to` (a writer with a narrower rule, such as expiry). */
export function allowedFrom(from: readonly ActionState[], to: ActionState): ActionState[] {
  const bad = from.filter((s) => !canMove(s, to));
  if (bad.length > 0) throw new Error(`action state machine: ${bad.join(', ')} → ${to} is not a transition`);
  return [...from];
}
