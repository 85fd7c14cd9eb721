/** When reduced grants are put back (src/domain/grantsBelongBack.ts). */
import { describe, expect, it } from 'vitest';
import { grantsBelongBack } from '../../src/domain/grantsBelongBack.ts';
import type { Milestone, MilestoneName, MilestoneState } from '../../src/domain/milestone.ts';

const NOW = Date.parse('2027-03-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function plan(
  states: Partial<Record<MilestoneName, MilestoneState>>,
  reduceDueMs = NOW + 86_400_000,
): Milestone[] {
  return (['notice', 'reduce', 'freeze', 'revoke', 'verify'] as const).map((name, i) => ({
    name,
    dueAt: name === 'reduce' ? iso(reduceDueMs) : iso(reduceDueMs + i * 3_600_000),
    state: states[name] ?? 'scheduled',
  }));
}

const person = (
  milestones: Milestone[],
  flags: { cancelled?: boolean; reinstatementRequired?: boolean } = {},
) => ({
  milestones,
  cancelled: flags.cancelled ?? false,
  reinstatementRequired: flags.reinstatementRequired ?? false,
});

describe('grantsBelongBack', () => {
  it('gives them back when the departure is called off before revoke', () => {
    expect(grantsBelongBack(person(plan({ reduce: 'done' }), { cancelled: true }), NOW)).toBe(true);
  });

  it('gives them back when reduce is open again with its instant ahead (a later last day)', () => {
    expect(grantsBelongBack(person(plan({})), NOW)).toBe(true);
  });

  it('keeps them removed while reduce is due: running, or retrying after a partial failure', () => {
    expect(grantsBelongBack(person(plan({}, NOW)), NOW)).toBe(false);
    expect(grantsBelongBack(person(plan({ reduce: 'failed' }, NOW - 60_000)), NOW)).toBe(false);
  });

  it('keeps them removed once reduce is done and the plan stands', () => {
    expect(grantsBelongBack(person(plan({ reduce: 'done' }, NOW - 60_000)), NOW)).toBe(false);
  });

  it('never gives anything back after revoke, or while reinstatement waits for a person', () => {
    const revoked = plan({ reduce: 'done', freeze: 'done', revoke: 'done' }, NOW - 60_000);
    expect(grantsBelongBack(person(revoked, { cancelled: true }), NOW)).toBe(false);
    expect(grantsBelongBack(person(plan({}), { cancelled: true, reinstatementRequired: true }), NOW)).toBe(
      false,
    );
  });
});
