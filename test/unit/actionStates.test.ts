/**
 * The action transition table (src/domain/actionStates.ts): final states are
 * final, a cancelled action can never become executed, and the checks that
 * approval and cancellation make agree with the table for every state.
 */
import { describe, expect, it } from 'vitest';
import { ACTION_STATES, type ActionState, checkApproval, checkCancel } from '../../src/domain/action.ts';
import {
  ACTION_TRANSITIONS,
  allowedFrom,
  canMove,
  isFinal,
  sourcesOf,
} from '../../src/domain/actionStates.ts';

describe('action transitions', () => {
  it('has a row for every state and names only known states', () => {
    expect(Object.keys(ACTION_TRANSITIONS).sort()).toEqual([...ACTION_STATES].sort());
    for (const to of Object.values(ACTION_TRANSITIONS))
      for (const s of to) expect(ACTION_STATES).toContain(s);
  });

  it('keeps executed and cancelled final', () => {
    expect(ACTION_STATES.filter(isFinal).sort()).toEqual(['cancelled', 'executed']);
    for (const to of ACTION_STATES) {
      expect(canMove('cancelled', to)).toBe(false);
      expect(canMove('executed', to)).toBe(false);
    }
  });

  it('records an execution from pending, held or approved, never from cancelled', () => {
    expect(sourcesOf('executed')).toEqual(['pending', 'held', 'approved']);
    expect(sourcesOf('cancelled')).toEqual(['pending', 'held', 'approved']);
    expect(sourcesOf('approved')).toEqual(['pending', 'held']);
    // approved → held: only for a callback whose outcome is unknown (jobs/actions.ts).
    expect(sourcesOf('held')).toEqual(['pending', 'approved']);
  });

  it('refuses a writer that names a transition the table lacks', () => {
    expect(allowedFrom(['held'], 'cancelled')).toEqual(['held']);
    expect(() => allowedFrom(['cancelled'], 'executed')).toThrow(/cancelled → executed/);
    expect(() => allowedFrom(['executed'], 'held')).toThrow(/executed → held/);
  });

  it('agrees with the approval and cancellation checks in every state', () => {
    for (const state of ACTION_STATES) {
      const action = { actionId: 'a', initiatorId: 'i', state };
      const approve = () => checkApproval(action, 'approver', 'active');
      if (state === 'approved') expect(approve()).toEqual({ already: true });
      else if (canMove(state, 'approved')) expect(approve()).toEqual({ already: false });
      else expect(approve).toThrow(/is (executed|cancelled)/);

      const cancel = () => checkCancel(action);
      if (state === 'cancelled') expect(cancel()).toEqual({ already: true });
      else if (canMove(state, 'cancelled')) expect(cancel()).toEqual({ already: false });
      else expect(cancel).toThrow(/executed already/);
    }
  });

  it('moves only along the table', () => {
    const all: [ActionState, ActionState][] = ACTION_STATES.flatMap((a) =>
      ACTION_STATES.map((b) => [a, b] as [ActionState, ActionState]),
    );
    const moves = all.filter(([a, b]) => canMove(a, b)).map(([a, b]) => `${a}→${b}`);
    expect(moves.sort()).toEqual(
      [
        'pending→held',
        'pending→approved',
        'pending→executed',
        'pending→cancelled',
        'held→approved',
        'held→executed',
        'held→cancelled',
        'approved→held',
        'approved→executed',
        'approved→cancelled',
      ].sort(),
    );
  });
});
