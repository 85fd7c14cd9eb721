/**
 * Acting at the instant, not after it. A milestone job is delivered
 * ARM_LEAD_MS before its milestone's `dueAt`: the worker takes the person lock
 * and reads what the milestone needs (the person, the reference clock, the
 * connectors' revoke reads) ahead, then waits, holding the lock, until the
 * instant itself, and only then decides and acts (jobs/milestone.ts). At the
 * instant only the effect's own write is left to do.
 *
 * Without the lead a job becomes available at its instant and then waits its
 * turn: when a thousand contracts end in the same second, the last revoke of
 * the burst lands after all the others' reads and bookkeeping (measured: p99
 * 3.3× a plain BullMQ delayed job's lateness). With it, they are all armed and
 * write together at the instant.
 *
 * Nothing acts earlier for it: the decision is the same `decideDue` on the
 * same clocks (decisionNow), taken after the wait. A job that starts earlier
 * than the lead allows (promoted by hand, a forged job, a clock far ahead) is
 * an early run as before: put back to its instant and audited.
 */

/** How long before its instant a milestone job is delivered (its BullMQ delay ends). */
export const ARM_LEAD_MS = 1_000;

/**
 * How early a job may start and still wait for its instant instead of going
 * back: the lead, plus room for the clocks of the worker that scheduled it and
 * the one that runs it being apart (CLOCK_TOLERANCE_MS is 1 s).
 */
export const ARM_WAIT_MAX_MS = 2 * ARM_LEAD_MS;

/** The BullMQ delay of a milestone job due at `dueAt`, scheduled at `nowMs`. */
export function deliveryDelayMs(dueAt: string, nowMs: number): number {
  return Math.max(0, Date.parse(dueAt) - ARM_LEAD_MS - nowMs);
}

/** Whether a job `earlyMs` before its instant waits for it (holding the person lock), rather than going back. */
export function waitsForInstant(earlyMs: number): boolean {
  return earlyMs > 0 && earlyMs <= ARM_WAIT_MAX_MS;
}
