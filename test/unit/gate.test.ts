/**
 * The gate decision, table-driven over every combination of action state,
 * initiator status, protection and approval; and a property: no sequence of
 * register / HR progress / freeze / approve / cancel / gate ever yields `allow`
 * for a protected or leaver's action without an eligible second person's
 * approval. Pure: domain functions only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTION_STATES,
  type ActionRecord,
  type ActionState,
  checkApproval,
  checkCancel,
  freezeOutcome,
  type GuardStatus,
  isLeaving,
} from '../../src/domain/action.ts';
import { LastdayError } from '../../src/domain/errors.ts';
import { decide, type GateDecision } from '../../src/domain/gate.ts';

const STATUSES: GuardStatus[] = ['active', 'scheduled', 'reduced', 'frozen', 'revoked'];
const APPROVALS = ['none', 'self', 'other'] as const;
const INITIATOR = 'c-1042';

/** The contract's rule, written independently of the implementation. */
function expected(
  state: ActionState,
  status: GuardStatus,
  protectedTarget: boolean,
  approval: (typeof APPROVALS)[number],
): { decision: GateDecision; state: ActionState } {
  if (state === 'cancelled' || state === 'executed') return { decision: 'deny', state };
  if (state === 'approved') {
    return approval === 'other' ? { decision: 'allow', state } : { decision: 'hold', state: 'held' };
  }
  if (state === 'held') return { decision: 'hold', state: 'held' };
  const leaving = status === 'frozen' || status === 'revoked';
  return leaving || protectedTarget ? { decision: 'hold', state: 'held' } : { decision: 'allow', state };
}

const table = ACTION_STATES.flatMap((state) =>
  STATUSES.flatMap((status) =>
    [false, true].flatMap((protectedTarget) =>
      APPROVALS.map((approval) => ({ state, status, protectedTarget, approval })),
    ),
  ),
);

describe('gate decision table', () => {
  it('covers every combination', () => {
    expect(table).toHaveLength(ACTION_STATES.length * STATUSES.length * 2 * APPROVALS.length);
  });

  it.each(table)('$state / initiator $status / protected $protectedTarget / approval $approval', (row) => {
    const approvedBy =
      row.approval === 'none' ? undefined : row.approval === 'self' ? INITIATOR : 'ops-alice';
    const result = decide({
      action: { state: row.state, initiatorId: INITIATOR, ...(approvedBy ? { approvedBy } : {}) },
      initiatorStatus: row.status,
      protectedBy: row.protectedTarget ? 'account:@vip-*' : undefined,
    });
    expect({ decision: result.decision, state: result.state }).toEqual(
      expected(row.state, row.status, row.protectedTarget, row.approval),
    );
    expect(result.reason.length).toBeGreaterThan(0);
  });

  it('names every reason to hold', () => {
    const r = decide({
      action: { state: 'pending', initiatorId: INITIATOR },
      initiatorStatus: 'frozen',
      protectedBy: 'account:@vip-*',
    });
    expect(r.reason).toMatch(/frozen/);
    expect(r.reason).toMatch(/account:@vip-\*/);
  });
});

describe('gate property', () => {
  const people = ['p1', 'p2', 'p3'];
  const actionIds = ['a1', 'a2', 'a3', 'a4'];
  const LADDER: GuardStatus[] = ['active', 'scheduled', 'reduced', 'frozen', 'revoked'];

  type Op =
    | { op: 'register'; id: string; initiator: string; protectedTarget: boolean; kind: string }
    | { op: 'progress'; person: string }
    | { op: 'reinstate'; person: string }
    | { op: 'freeze'; person: string }
    | { op: 'approve'; id: string; approver: string }
    | { op: 'cancel'; id: string }
    | { op: 'gate'; id: string };

  const person = fc.constantFrom(...people);
  const id = fc.constantFrom(...actionIds);
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      op: fc.constant('register' as const),
      id,
      initiator: person,
      protectedTarget: fc.boolean(),
      kind: fc.constantFrom('account.deactivate', 'data.delete'),
    }),
    fc.record({ op: fc.constant('progress' as const), person }),
    fc.record({ op: fc.constant('reinstate' as const), person }),
    fc.record({ op: fc.constant('freeze' as const), person }),
    fc.record({ op: fc.constant('approve' as const), id, approver: person }),
    fc.record({ op: fc.constant('cancel' as const), id }),
    fc.record({ op: fc.constant('gate' as const), id }),
  );

  it('never allows a protected or leaver action without an eligible second approval', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.boolean(), (ops, cancelDeletes) => {
        const status = new Map<string, GuardStatus>(people.map((p) => [p, 'active']));
        const actions = new Map<string, ActionRecord & { protectedTarget: boolean }>();
        /** Approvals the model saw granted to an eligible second person, independently of the domain. */
        const eligible = new Set<string>();
        const cancelOnFreeze = cancelDeletes ? ['data.*'] : [];
        const gateOf = (a: ActionRecord & { protectedTarget: boolean }) =>
          decide({
            action: a,
            initiatorStatus: status.get(a.initiatorId)!,
            protectedBy: a.protectedTarget ? 'protected-*' : undefined,
          });

        for (const o of ops) {
          switch (o.op) {
            case 'register': {
              if (actions.has(o.id)) break;
              const draft = {
                actionId: o.id,
                initiatorId: o.initiator,
                kind: o.kind,
                target: o.protectedTarget ? 'protected-x' : 'plain',
                state: 'pending' as ActionState,
                reason: '',
                createdAt: '',
                updatedAt: '',
                protectedTarget: o.protectedTarget,
              };
              const g = gateOf(draft);
              actions.set(o.id, { ...draft, state: g.decision === 'hold' ? 'held' : 'pending' });
              break;
            }
            case 'progress': {
              const now = status.get(o.person)!;
              status.set(o.person, LADDER[Math.min(LADDER.indexOf(now) + 1, LADDER.length - 1)]!);
              break;
            }
            case 'reinstate':
              status.set(o.person, 'active');
              break;
            case 'freeze': {
              if (!isLeaving(status.get(o.person)!)) status.set(o.person, 'frozen');
              for (const a of actions.values()) {
                if (a.initiatorId === o.person && a.state === 'pending') {
                  a.state = freezeOutcome(a.kind, cancelOnFreeze).state;
                }
              }
              break;
            }
            case 'approve': {
              const a = actions.get(o.id);
              if (!a) break;
              try {
                const { already } = checkApproval(a, o.approver, status.get(o.approver)!);
                if (!already) {
                  a.state = 'approved';
                  a.approvedBy = o.approver;
                  const approverStatus = status.get(o.approver)!;
                  if (
                    o.approver !== a.initiatorId &&
                    !['reduced', 'frozen', 'revoked'].includes(approverStatus)
                  ) {
                    eligible.add(o.id);
                  }
                }
              } catch (err) {
                expect(err).toBeInstanceOf(LastdayError);
              }
              break;
            }
            case 'cancel': {
              const a = actions.get(o.id);
              if (!a) break;
              try {
                if (!checkCancel(a).already) a.state = 'cancelled';
              } catch (err) {
                expect((err as LastdayError).code).toBe('conflict');
              }
              break;
            }
            case 'gate': {
              const a = actions.get(o.id);
              if (!a) break;
              const g = gateOf(a);
              const guarded = a.protectedTarget || isLeaving(status.get(a.initiatorId)!);
              if (g.decision === 'allow' && guarded) expect(eligible.has(a.actionId)).toBe(true);
              if (g.decision === 'allow') expect(['pending', 'approved']).toContain(a.state);
              a.state = g.state;
              break;
            }
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
