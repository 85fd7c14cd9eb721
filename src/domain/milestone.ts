/**
 * Milestones of an offboarding, in the order they must run.
 */
export const MILESTONES = ['notice', 'reduce', 'freeze', 'revoke', 'verify'] as const;
export type MilestoneName = (typeof MILESTONES)[number];

export type MilestoneState = 'scheduled' | 'done' | 'cancelled' | 'failed';

/** A milestone of a person's plan. Instants are ISO-8601 UTC strings with `Z`. */
export interface Milestone {
  name: MilestoneName;
  dueAt: string;
  /**
   * When lastday could first act on it, when that is later than `dueAt`: the
   * plan that put it at `dueAt` was saved after that instant (a late HR event).
   * Absent when it was planned ahead. Lateness and overdue measure lastday
   * from here; the gap to `dueAt` is the HR system's.
   */
  actionableAt?: string;
  state: MilestoneState;
  doneAt?: string;
  /** Last error while running it, kept for ops; cleared when done. */
  lastError?: string;
  /** When it was marked `failed` (its `alert.milestone_failed` entry is written with that save). */
  failedAt?: string;
  /**
   * When that alert was announced (notifier, webhook). Absent on a `failed`
   * milestone until then, so an announcement a crash cut off is made by the
   * next attempt (src/domain/milestoneRun.ts, awaitsAnnouncement).
   */
  alertedAt?: string;
}

export function milestoneIndex(name: MilestoneName): number {
  return MILESTONES.indexOf(name);
}

export function isMilestoneName(value: string): value is MilestoneName {
  return (MILESTONES as readonly string[]).includes(value);
}

/** When lastday could first act on `m`: its `dueAt`, or later when planned late. */
export function actionableAtMs(m: Pick<Milestone, 'dueAt' | 'actionableAt'>): number {
  const due = Date.parse(m.dueAt);
  return m.actionableAt === undefined ? due : Math.max(due, Date.parse(m.actionableAt));
}

/** Not finished: still to run (failed ones keep retrying). */
export function isOpen(m: Pick<Milestone, 'state'>): boolean {
  return m.state === 'scheduled' || m.state === 'failed';
}
