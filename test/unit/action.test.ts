/** The action state machine around the gate: who counts as leaving, approvals, cancels, freeze, bounds. */
import { describe, expect, it } from 'vitest';
import {
  actionRequestSchema,
  checkApproval,
  checkCancel,
  freezeOutcome,
  guardStatus,
  PAYLOAD_MAX_BYTES,
} from '../../src/domain/action.ts';
import type { PersonRecord } from '../../src/domain/person.ts';

function person(overrides: Partial<PersonRecord> = {}, done: string[] = []): PersonRecord {
  const names = ['notice', 'reduce', 'freeze', 'revoke', 'verify'] as const;
  return {
    person: { id: 'p', email: 'p@example.com', name: 'P', employment: 'contractor', timezone: 'UTC' },
    kind: 'ending',
    lastDay: '2026-12-04',
    endTime: '17:00',
    endsAt: '2026-12-04T17:00:00Z',
    cancelled: false,
    reinstatementRequired: false,
    cycle: 1,
    planVersion: 3,
    milestones: names.map((name) => ({
      name,
      dueAt: '2026-12-04T00:00:00Z',
      state: done.includes(name) ? 'done' : 'scheduled',
    })),
    lastEvent: { eventId: 'e', type: 'contract.ending', occurredAt: '2026-11-01T00:00:00Z' },
    createdAt: '2026-11-01T00:00:00Z',
    updatedAt: '2026-11-01T00:00:00Z',
    rev: 1,
    ...overrides,
  } as PersonRecord;
}

describe('guardStatus', () => {
  it('counts an unknown person as active', () => {
    expect(guardStatus(undefined, null)).toBe('active');
  });
  it('follows the milestones', () => {
    expect(guardStatus(person(), null)).toBe('scheduled');
    expect(guardStatus(person({}, ['notice', 'reduce']), null)).toBe('reduced');
    expect(guardStatus(person({}, ['notice', 'reduce', 'freeze']), null)).toBe('frozen');
    expect(guardStatus(person({}, ['notice', 'reduce', 'freeze', 'revoke']), null)).toBe('revoked');
  });
  it('is frozen from the freeze mark of the current plan on, not of an older one', () => {
    expect(guardStatus(person({}, ['reduce']), '3')).toBe('frozen');
    expect(guardStatus(person({}, ['reduce']), '2')).toBe('reduced');
  });
  it('counts a called-off offboarding as active, unless it was revoked first', () => {
    expect(guardStatus(person({ cancelled: true }, ['reduce', 'freeze']), '3')).toBe('active');
    expect(guardStatus(person({ cancelled: true, reinstatementRequired: true }), null)).toBe('revoked');
  });
});

describe('approvals and cancels', () => {
  const held = { actionId: 'a', initiatorId: 'c-1', state: 'held' as const };
  it('refuses the initiator and departing approvers, with their codes', () => {
    expect(() => checkApproval(held, 'c-1', 'active')).toThrow(
      expect.objectContaining({ code: 'self_approval' }),
    );
    for (const s of ['reduced', 'frozen', 'revoked'] as const) {
      expect(() => checkApproval(held, 'ops', s)).toThrow(
        expect.objectContaining({ code: 'approver_departing' }),
      );
    }
    expect(checkApproval(held, 'ops', 'scheduled')).toEqual({ already: false });
    expect(checkApproval({ ...held, state: 'approved' }, 'ops', 'active')).toEqual({ already: true });
    expect(() => checkApproval({ ...held, state: 'cancelled' }, 'ops', 'active')).toThrow(
      expect.objectContaining({ code: 'conflict' }),
    );
  });
  it('cancels anything not executed', () => {
    expect(checkCancel({ actionId: 'a', state: 'approved' })).toEqual({ already: false });
    expect(checkCancel({ actionId: 'a', state: 'cancelled' })).toEqual({ already: true });
    expect(() => checkCancel({ actionId: 'a', state: 'executed' })).toThrow(
      expect.objectContaining({ code: 'conflict' }),
    );
  });
  it('holds on freeze, or cancels kinds matching cancelOnFreeze', () => {
    expect(freezeOutcome('data.delete', ['data.*']).state).toBe('cancelled');
    expect(freezeOutcome('account.deactivate', ['data.*']).state).toBe('held');
  });
});

describe('registration schema', () => {
  const base = { actionId: 'a', initiatorId: 'p', kind: 'k', target: 't' };
  it('bounds the payload', () => {
    expect(
      actionRequestSchema.safeParse({ ...base, payload: 'x'.repeat(PAYLOAD_MAX_BYTES - 2) }).success,
    ).toBe(true);
    expect(actionRequestSchema.safeParse({ ...base, payload: 'x'.repeat(PAYLOAD_MAX_BYTES) }).success).toBe(
      false,
    );
  });
  it('rejects unknown fields and non-http callbacks', () => {
    expect(actionRequestSchema.safeParse({ ...base, approverId: 'x' }).success).toBe(false);
    expect(actionRequestSchema.safeParse({ ...base, callbackUrl: 'file:///etc/passwd' }).success).toBe(false);
  });
});
