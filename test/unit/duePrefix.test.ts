/**
 * The due-prefix rule (src/domain/duePrefix.ts): which milestones a job may run
 * at an instant. Contract v1.1 section 3: nothing takes effect before its own
 * `dueAt`, whatever happens to its job.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOCK_TOLERANCE_MS, decideDue, decisionNow, duePrefix } from '../../src/domain/duePrefix.ts';
import {
  MILESTONES,
  type Milestone,
  type MilestoneState,
  milestoneIndex,
} from '../../src/domain/milestone.ts';

const NUM_RUNS = Number(process.env.FC_RUNS ?? 500);
const T0 = Date.parse('2026-12-04T17:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A termination: reduce, freeze, revoke at T0, verify an hour later; notice cancelled. */
const termination: Milestone[] = [
  { name: 'notice', dueAt: iso(T0 - 86_400_000), state: 'cancelled' },
  { name: 'reduce', dueAt: iso(T0), state: 'scheduled' },
  { name: 'freeze', dueAt: iso(T0), state: 'scheduled' },
  { name: 'revoke', dueAt: iso(T0), state: 'scheduled' },
  { name: 'verify', dueAt: iso(T0 + 3_600_000), state: 'scheduled' },
];
const byName = (ms: Milestone[], name: Milestone['name']) => ms.find((m) => m.name === name)!;

describe('decideDue', () => {
  it('sends a job back when its own milestone is not due, however close', () => {
    const revoke = byName(termination, 'revoke');
    expect(decideDue(termination, revoke, T0 - 18 * 86_400_000)).toEqual({
      kind: 'early',
      dueAt: revoke.dueAt,
      earlyMs: 18 * 86_400_000,
    });
    expect(decideDue(termination, revoke, T0 - 1)).toMatchObject({ kind: 'early', earlyMs: 1 });
  });

  it('at the instant runs everything due, in contract order, and nothing later', () => {
    const decision = decideDue(termination, byName(termination, 'freeze'), T0);
    expect(decision.kind).toBe('due');
    if (decision.kind !== 'due') return;
    expect(decision.run.map((m) => m.name)).toEqual(['reduce', 'freeze', 'revoke']);
  });

  it('never runs an earlier milestone before its own instant because a later one is due', () => {
    // An out-of-order plan (done reduce reopened under another plan, a hand-edited
    // record): revoke is due, reduce is not yet. Before the fix, reduce counted as
    // due "once the target is due".
    const milestones: Milestone[] = [
      { name: 'reduce', dueAt: iso(T0 + 60_000), state: 'scheduled' },
      { name: 'revoke', dueAt: iso(T0), state: 'scheduled' },
    ];
    const decision = decideDue(milestones, byName(milestones, 'revoke'), T0);
    expect(decision).toEqual({ kind: 'due', run: [byName(milestones, 'revoke')] });
  });

  it('skips done and cancelled milestones and retries failed ones', () => {
    const milestones: Milestone[] = [
      { name: 'reduce', dueAt: iso(T0), state: 'done', doneAt: iso(T0) },
      { name: 'freeze', dueAt: iso(T0), state: 'failed', lastError: 'gate down' },
      { name: 'revoke', dueAt: iso(T0), state: 'scheduled' },
    ];
    const decision = decideDue(milestones, byName(milestones, 'revoke'), T0 + 5);
    expect(decision.kind === 'due' && decision.run.map((m) => m.name)).toEqual(['freeze', 'revoke']);
  });
});

describe('decisionNow', () => {
  it('is the worker clock without a reference, or when the reference agrees within the tolerance', () => {
    expect(decisionNow(T0)).toBe(T0);
    expect(decisionNow(T0, T0 + 5_000)).toBe(T0);
    expect(decisionNow(T0, T0 - CLOCK_TOLERANCE_MS)).toBe(T0);
  });

  it('follows a reference clock that is further behind (a worker clock running ahead)', () => {
    expect(decisionNow(T0, T0 - 3_600_000)).toBe(T0 - 3_600_000 + CLOCK_TOLERANCE_MS);
  });
});

const stateArb = fc.constantFrom<MilestoneState>('scheduled', 'done', 'cancelled', 'failed');
const planArb = fc
  .tuple(
    fc.subarray([...MILESTONES], { minLength: 1 }),
    fc.array(fc.tuple(fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }), stateArb), {
      minLength: 5,
      maxLength: 5,
    }),
  )
  .map(([names, picks]) =>
    names.map((name, i): Milestone => {
      const [offset, state] = picks[i]!;
      return { name, dueAt: iso(T0 + offset), state, ...(state === 'done' ? { doneAt: iso(T0) } : {}) };
    }),
  );
const nowArb = fc.integer({ min: -4 * 86_400_000, max: 4 * 86_400_000 }).map((d) => T0 + d);

describe('properties', () => {
  it('no milestone in the selection has dueAt > now', () => {
    fc.assert(
      fc.property(planArb, nowArb, (plan, now) => {
        for (const m of duePrefix(plan, now)) expect(Date.parse(m.dueAt)).toBeLessThanOrEqual(now);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the selection is every open due milestone, in contract order', () => {
    fc.assert(
      fc.property(planArb, nowArb, (plan, now) => {
        const selected = duePrefix(plan, now).map((m) => m.name);
        const expected = plan
          .filter((m) => (m.state === 'scheduled' || m.state === 'failed') && Date.parse(m.dueAt) <= now)
          .map((m) => m.name)
          .sort((a, b) => milestoneIndex(a) - milestoneIndex(b));
        expect(selected).toEqual(expected);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("a job runs nothing before its own milestone's instant, and runs its own milestone at it", () => {
    fc.assert(
      fc.property(planArb, nowArb, fc.nat(), (plan, now, pick) => {
        const open = plan.filter((m) => m.state === 'scheduled' || m.state === 'failed');
        fc.pre(open.length > 0);
        const target = open[pick % open.length]!;
        const decision = decideDue(plan, target, now);
        if (Date.parse(target.dueAt) > now) {
          expect(decision).toEqual({
            kind: 'early',
            dueAt: target.dueAt,
            earlyMs: Date.parse(target.dueAt) - now,
          });
        } else {
          expect(decision.kind).toBe('due');
          if (decision.kind === 'due') expect(decision.run).toContain(target);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the decided instant is never later than the worker clock, nor than the reference plus the tolerance', () => {
    fc.assert(
      fc.property(nowArb, fc.option(nowArb, { nil: undefined }), (local, reference) => {
        const now = decisionNow(local, reference);
        expect(now).toBeLessThanOrEqual(local);
        if (reference !== undefined) expect(now).toBeLessThanOrEqual(reference + CLOCK_TOLERANCE_MS);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
