/**
 * The rules of a milestone job's run, apart from the I/O that carries them
 * out (jobs/milestone.ts): whether a job has anything to do, which milestones
 * it runs (./duePrefix.ts), how late each ran, what a finished or failed
 * milestone looks like on the record, and when a failure becomes `failed`.
 */
import { actionableAtMs, isOpen, type Milestone, type MilestoneName } from './milestone.ts';
import type { PersonRecord } from './person.ts';

/** What a milestone job names: a person, the plan version it was scheduled for, and its milestone. */
export interface MilestoneJobRef {
  personId: string;
  version: number;
  milestone: MilestoneName;
}

export type NothingToDo = { outcome: 'stale' | 'not_open'; reason: string };

/**
 * Why a job has nothing to do — its plan moved on (`stale`), or its milestone is
 * no longer open (`not_open`) — or undefined when it has work. Both are final
 * for a job: a plan never reopens a milestone without a new version.
 */
export function nothingToDo(record: PersonRecord | undefined, job: MilestoneJobRef): NothingToDo | undefined {
  if (!record || record.planVersion !== job.version) {
    return {
      outcome: 'stale',
      reason: `plan version ${record?.planVersion ?? 'none'} ≠ job version ${job.version}`,
    };
  }
  const target = record.milestones.find((m) => m.name === job.milestone);
  if (!target || !isOpen(target))
    return { outcome: 'not_open', reason: `${job.milestone} is ${target?.state}` };
  return undefined;
}

/**
 * How late a milestone ran at `nowMs`. Lateness is lastday's own, counted from
 * when it could first act (its instant, or when a late HR event planned it);
 * how late HR was (`hrLateMs`) is kept apart.
 */
export function lateness(m: Pick<Milestone, 'dueAt' | 'actionableAt'>, nowMs: number) {
  const actionableMs = actionableAtMs(m);
  return { lateMs: nowMs - actionableMs, hrLateMs: actionableMs - Date.parse(m.dueAt) };
}

/** The milestones with `name` marked done at `at` (its error and failure cleared). */
export function markedDone(milestones: readonly Milestone[], name: MilestoneName, at: string): Milestone[] {
  return milestones.map((m) =>
    m.name === name
      ? {
          name,
          dueAt: m.dueAt,
          ...(m.actionableAt ? { actionableAt: m.actionableAt } : {}),
          state: 'done',
          doneAt: at,
        }
      : m,
  );
}

/** Longest error text kept on a milestone. */
export const LAST_ERROR_MAX = 1000;

export interface FailureInput {
  /** The milestone as planned (its instants). */
  milestone: Pick<Milestone, 'dueAt' | 'actionableAt'>;
  /** Its state as stored now (another attempt may have marked it failed already). */
  currentState: Milestone['state'] | undefined;
  nowMs: number;
  /** policy.failAfterMinutes. */
  failAfterMinutes: number;
  /** An error waiting cannot fix (refused credentials): fail at once. */
  hopeless: boolean;
}

/**
 * Whether a failed attempt marks the milestone `failed` (and alerts, once):
 * past its deadline — counted from when lastday could act, so a late HR event
 * does not make the first attempt "past its deadline" — or hopeless, and not
 * marked already. The job keeps retrying either way.
 */
export function failureVerdict(input: FailureInput): { markFailed: boolean; pastDeadline: boolean } {
  const pastDeadline = input.nowMs > actionableAtMs(input.milestone) + input.failAfterMinutes * 60_000;
  return {
    pastDeadline,
    markFailed: (pastDeadline || input.hopeless) && input.currentState !== 'failed',
  };
}

/** The milestones with a failed attempt of `name` recorded: its error, and `failed` when the verdict says so. */
export function withFailure(
  milestones: readonly Milestone[],
  name: MilestoneName,
  message: string,
  markFailed: boolean,
  at: string,
): Milestone[] {
  return milestones.map((m) =>
    m.name === name
      ? {
          ...m,
          lastError: message.slice(0, LAST_ERROR_MAX),
          ...(markFailed ? { state: 'failed' as const, failedAt: at } : {}),
        }
      : m,
  );
}

/**
 * Whether a milestone is `failed` but its alert was not announced yet: the
 * save that marked it (with the alert's audit entry) landed, and the
 * announcement after it did not (a crash between). The next failing attempt
 * announces it.
 */
export function awaitsAnnouncement(m: Milestone | undefined): boolean {
  return m?.state === 'failed' && m.alertedAt === undefined;
}

/** The milestones with `name`'s failure alert recorded as announced at `at`. */
export function withAlerted(milestones: readonly Milestone[], name: MilestoneName, at: string): Milestone[] {
  return milestones.map((m) => (m.name === name ? { ...m, alertedAt: at } : m));
}
