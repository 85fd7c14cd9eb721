/**
 * Which milestones of a person's plan have a delayed job (src/queues/milestones.ts).
 *
 * One job per person: the job of the first open milestone runs the whole due
 * prefix at its instant and then schedules the next open milestone's job
 * (jobs/milestone.ts). A milestone whose attempts fail keeps retrying in its
 * own job (BullMQ backoff), so the milestone after it gets its job too: a
 * failing `reduce` never delays `revoke`. Nothing is scheduled further ahead
 * than the horizon: reconcile's horizon pass adds those jobs as their people
 * come within it (jobs/ops/reconcile.ts).
 */
import type { Milestone } from './milestone.ts';
import { openMilestones, type PersonRecord } from './person.ts';

/** Default of `workers.horizonHours`: no job for a milestone further ahead than this. */
export const DEFAULT_HORIZON_HOURS = 48;

/** Whether a milestone's attempts have failed (it keeps retrying in its own job). */
export function isFailing(m: Pick<Milestone, 'state' | 'lastError'>): boolean {
  return m.state === 'failed' || m.lastError !== undefined;
}

/**
 * The open milestones that must have a job now: the first open one, and each
 * next one while the one before it is failing; only those due by
 * `nowMs + horizonMs`. None for a cancelled plan.
 */
export function milestonesWithJobs(record: PersonRecord, nowMs: number, horizonMs: number): Milestone[] {
  if (record.cancelled) return [];
  const wanted: Milestone[] = [];
  for (const m of openMilestones(record)) {
    wanted.push(m);
    if (!isFailing(m)) break;
  }
  return wanted.filter((m) => Date.parse(m.dueAt) <= nowMs + horizonMs);
}

/**
 * The instant (ms) the person's next job is due: the first open milestone's
 * `dueAt`, which scores the person in the next-due index the horizon pass
 * reads; undefined when nothing is open (or the plan is cancelled).
 */
export function nextDueMs(record: PersonRecord): number | undefined {
  if (record.cancelled) return undefined;
  const first = openMilestones(record)[0];
  return first ? Date.parse(first.dueAt) : undefined;
}
