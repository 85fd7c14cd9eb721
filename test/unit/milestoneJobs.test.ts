/** Which milestones have a job (src/domain/milestoneJobs.ts): one per person, none beyond the horizon. */
import { describe, expect, it } from 'vitest';
import type { Milestone } from '../../src/domain/milestone.ts';
import { isFailing, milestonesWithJobs, nextDueMs } from '../../src/domain/milestoneJobs.ts';
import type { PersonRecord } from '../../src/domain/person.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-12-01T09:00:00Z');
const at = (hours: number) => new Date(T0 + hours * H).toISOString();

function record(milestones: Milestone[], cancelled = false): PersonRecord {
  return { milestones, cancelled } as PersonRecord;
}
const plan = (...states: Partial<Milestone>[]): Milestone[] =>
  (['notice', 'reduce', 'freeze', 'revoke', 'verify'] as const).map((name, i) => ({
    name,
    dueAt: at(10 * (i + 1)),
    state: 'scheduled',
    ...states[i],
  }));

describe('milestonesWithJobs', () => {
  it('wants the first open milestone only', () => {
    const r = record(plan({ state: 'done' }));
    expect(milestonesWithJobs(r, T0, 48 * H).map((m) => m.name)).toEqual(['reduce']);
  });

  it('wants the next one too while the first is failing, and so on', () => {
    const r = record(plan({ state: 'done' }, { lastError: 'x' }, { state: 'failed', lastError: 'y' }));
    expect(milestonesWithJobs(r, T0, 48 * H).map((m) => m.name)).toEqual(['reduce', 'freeze', 'revoke']);
  });

  it('wants none beyond the horizon, and none for a cancelled or finished plan', () => {
    expect(milestonesWithJobs(record(plan()), T0, 5 * H)).toEqual([]);
    expect(milestonesWithJobs(record(plan(), true), T0, 48 * H)).toEqual([]);
    const done = plan(...Array(5).fill({ state: 'done' }));
    expect(milestonesWithJobs(record(done), T0, 48 * H)).toEqual([]);
  });

  it('scores the next-due index by the first open milestone', () => {
    expect(nextDueMs(record(plan({ state: 'done' })))).toBe(T0 + 20 * H);
    expect(nextDueMs(record(plan(), true))).toBeUndefined();
    expect(isFailing({ state: 'scheduled' })).toBe(false);
    expect(isFailing({ state: 'scheduled', lastError: 'e' })).toBe(true);
  });
});
