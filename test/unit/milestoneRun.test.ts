/**
 * The rules of a milestone job's run (src/domain/milestoneRun.ts): whether a
 * job has work, how late a milestone ran, what done and failed look like, and
 * when a failed attempt marks the milestone failed.
 */
import { describe, expect, it } from 'vitest';
import type { Milestone } from '../../src/domain/milestone.ts';
import {
  awaitsAnnouncement,
  failureVerdict,
  LAST_ERROR_MAX,
  lateness,
  markedDone,
  nothingToDo,
  withAlerted,
  withFailure,
} from '../../src/domain/milestoneRun.ts';
import type { PersonRecord } from '../../src/domain/person.ts';

const T0 = Date.parse('2027-03-01T17:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const milestones: Milestone[] = [
  { name: 'reduce', dueAt: iso(T0), state: 'done', doneAt: iso(T0) },
  { name: 'revoke', dueAt: iso(T0 + 3_600_000), state: 'scheduled', lastError: 'earlier' },
];
const record = { planVersion: 3, milestones } as unknown as PersonRecord;

describe('nothingToDo', () => {
  it('calls a job of another plan version, or of no person, stale', () => {
    expect(nothingToDo(record, { personId: 'p', version: 2, milestone: 'revoke' })).toEqual({
      outcome: 'stale',
      reason: 'plan version 3 ≠ job version 2',
    });
    expect(nothingToDo(undefined, { personId: 'p', version: 1, milestone: 'revoke' })?.outcome).toBe('stale');
  });

  it('calls a job whose milestone is finished or absent not_open, and an open one work', () => {
    expect(nothingToDo(record, { personId: 'p', version: 3, milestone: 'reduce' })).toEqual({
      outcome: 'not_open',
      reason: 'reduce is done',
    });
    expect(nothingToDo(record, { personId: 'p', version: 3, milestone: 'verify' })?.outcome).toBe('not_open');
    expect(nothingToDo(record, { personId: 'p', version: 3, milestone: 'revoke' })).toBeUndefined();
  });
});

describe('lateness', () => {
  it('counts lastday from when it could act, and keeps how late HR was apart', () => {
    expect(lateness({ dueAt: iso(T0) }, T0 + 250)).toEqual({ lateMs: 250, hrLateMs: 0 });
    // Planned an hour after its instant by a late HR event, run 2 s after that.
    expect(lateness({ dueAt: iso(T0), actionableAt: iso(T0 + 3_600_000) }, T0 + 3_602_000)).toEqual({
      lateMs: 2_000,
      hrLateMs: 3_600_000,
    });
  });
});

describe('markedDone / withFailure', () => {
  it('marks one milestone done and drops its last error, leaving the others alone', () => {
    const done = markedDone(milestones, 'revoke', iso(T0 + 3_600_500));
    expect(done[1]).toEqual({
      name: 'revoke',
      dueAt: iso(T0 + 3_600_000),
      state: 'done',
      doneAt: iso(T0 + 3_600_500),
    });
    expect(done[0]).toBe(milestones[0]);
  });

  it('keeps a bounded error, and the failed state only when the verdict says so', () => {
    const long = 'x'.repeat(LAST_ERROR_MAX + 50);
    const kept = withFailure(milestones, 'revoke', long, false, iso(T0));
    expect(kept[1]).toMatchObject({ state: 'scheduled', lastError: 'x'.repeat(LAST_ERROR_MAX) });
    expect(withFailure(milestones, 'revoke', 'boom', true, iso(T0))[1]).toMatchObject({
      state: 'failed',
      failedAt: iso(T0),
      lastError: 'boom',
    });
  });
});

describe('failureVerdict', () => {
  const base = {
    milestone: { dueAt: iso(T0) },
    currentState: 'scheduled' as const,
    failAfterMinutes: 30,
    hopeless: false,
  };

  it('waits until the deadline, counted from when lastday could act', () => {
    expect(failureVerdict({ ...base, nowMs: T0 + 30 * 60_000 })).toEqual({
      markFailed: false,
      pastDeadline: false,
    });
    expect(failureVerdict({ ...base, nowMs: T0 + 30 * 60_000 + 1 })).toEqual({
      markFailed: true,
      pastDeadline: true,
    });
    const plannedLate = { ...base, milestone: { dueAt: iso(T0), actionableAt: iso(T0 + 3_600_000) } };
    expect(failureVerdict({ ...plannedLate, nowMs: T0 + 3_600_000 + 60_000 }).markFailed).toBe(false);
  });

  it('fails at once an error waiting cannot fix', () => {
    expect(failureVerdict({ ...base, hopeless: true, nowMs: T0 + 1 })).toEqual({
      markFailed: true,
      pastDeadline: false,
    });
  });

  it('marks a milestone failed once, not on every later attempt', () => {
    expect(failureVerdict({ ...base, currentState: 'failed', nowMs: T0 + 86_400_000 }).markFailed).toBe(
      false,
    );
  });
});

describe('announcing a failure', () => {
  const failed: Milestone = { name: 'revoke', dueAt: iso(T0), state: 'failed', failedAt: iso(T0 + 60_000) };

  it('a failed milestone awaits its announcement until it is recorded, and nothing else does', () => {
    expect(awaitsAnnouncement(failed)).toBe(true);
    const [alerted] = withAlerted([failed], 'revoke', iso(T0 + 61_000));
    expect(alerted).toEqual({ ...failed, alertedAt: iso(T0 + 61_000) });
    expect(awaitsAnnouncement(alerted)).toBe(false);
    expect(awaitsAnnouncement({ name: 'revoke', dueAt: iso(T0), state: 'scheduled', lastError: 'x' })).toBe(
      false,
    );
    expect(awaitsAnnouncement(undefined)).toBe(false);
  });

  it('done clears the announcement with the failure', () => {
    const [done] = markedDone(withAlerted([failed], 'revoke', iso(T0)), 'revoke', iso(T0 + 120_000));
    expect(done).toEqual({ name: 'revoke', dueAt: iso(T0), state: 'done', doneAt: iso(T0 + 120_000) });
  });
});
