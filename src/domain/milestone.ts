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
  state: MilestoneState;
  doneAt?: string;
  /** Last error while running it, kept for ops; cleared when done. */
  lastError?: string;
  /** When it was marked `failed` and alerted on. */
  failedAt?: string;
}

export function milestoneIndex(name: MilestoneName): number {
  return MILESTONES.indexOf(name);
}

export function isMilestoneName(value: string): value is MilestoneName {
  return (MILESTONES as readonly string[]).includes(value);
}

/** Not finished: still to run (failed ones keep retrying). */
export function isOpen(m: Pick<Milestone, 'state'>): boolean {
  return m.state === 'scheduled' || m.state === 'failed';
}
