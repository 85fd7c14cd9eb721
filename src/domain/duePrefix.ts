/**
 * Which milestones a milestone job may run at a given instant (contract v1.1
 * section 3: a milestone never takes effect before its `dueAt`, whatever
 * happens to its job).
 *
 * A job can start before its instant: promoted by hand in the dashboard or by
 * any BullMQ client, added by someone else with the same data, or taken by a
 * worker whose clock runs ahead. The job's own milestone then is not due and
 * the job must go back to its instant, doing nothing. When it is due, the job
 * runs every open milestone that is due — earlier ones it finds still open
 * (catch-up) and later ones already due (catch-forward, a termination makes
 * reduce, freeze and revoke due at once) — in contract order, and none whose
 * own instant has not come: "due" is always a milestone's own `dueAt`, never
 * borrowed from another milestone.
 */
import { isOpen, type Milestone, milestoneIndex } from './milestone.ts';

export type DueDecision =
  /** The job's own milestone is not due: put the job back `earlyMs` later; run nothing. */
  | { kind: 'early'; dueAt: string; earlyMs: number }
  /** Run these, in this order (the job's own milestone among them). */
  | { kind: 'due'; run: Milestone[] };

/**
 * Open milestones due at `nowMs` (`dueAt <= nowMs`), in contract order.
 * Contract order, not `dueAt` order: milestones due at one instant run
 * notice → reduce → freeze → revoke → verify.
 */
export function duePrefix(milestones: readonly Milestone[], nowMs: number): Milestone[] {
  return milestones
    .filter((m) => isOpen(m) && Date.parse(m.dueAt) <= nowMs)
    .sort((a, b) => milestoneIndex(a.name) - milestoneIndex(b.name));
}

/**
 * What the job of milestone `target` (one of `milestones`, open: stale and
 * finished jobs end before asking) does at `nowMs`.
 */
export function decideDue(
  milestones: readonly Milestone[],
  target: Pick<Milestone, 'dueAt'>,
  nowMs: number,
): DueDecision {
  const dueMs = Date.parse(target.dueAt);
  if (dueMs > nowMs) return { kind: 'early', dueAt: target.dueAt, earlyMs: dueMs - nowMs };
  return { kind: 'due', run: duePrefix(milestones, nowMs) };
}

/**
 * How far a second clock may lag the worker's before lastday believes it over
 * the worker's. Two clocks kept by NTP agree far better than this; a bigger
 * gap means one of them is wrong, and lastday then takes the later instant
 * for effects: being late is measured and alerted (overdue), being early
 * cannot be undone.
 */
export const CLOCK_TOLERANCE_MS = 1_000;

/**
 * The instant a job decides on: the worker's clock, unless a reference clock
 * (Redis `TIME`, shared by every worker) is behind it by more than
 * `toleranceMs` — then the reference plus the tolerance. Never later than the
 * worker's own clock, so a skewed reference can only delay a milestone.
 */
export function decisionNow(localMs: number, referenceMs?: number, toleranceMs = CLOCK_TOLERANCE_MS): number {
  if (referenceMs === undefined) return localMs;
  return Math.min(localMs, referenceMs + toleranceMs);
}
