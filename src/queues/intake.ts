/**
 * The one entry point for HR events arriving over HTTP or the CLI: validate,
 * keep rejects with their reasons, answer duplicates, queue the rest on
 * `hr-events` with a deterministic job id. Events that HR systems add to the
 * queue directly are validated by the worker instead (jobs/hrEvent.ts), which
 * keeps its rejects through `rejectHrEvent` here too, so every way in stores
 * and answers the same bounded record (REJECTED_BOUNDS in src/store/events.ts).
 */
import type { Queue } from 'bullmq';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Issue } from '../domain/errors.ts';
import { hrEventSchema } from '../domain/hrEvent.ts';
import { toIssues } from '../domain/zodIssues.ts';
import { boundIssues, eventIdOf, type EventsStore, type IntakeSource } from '../store/events.ts';
import { hrEventJobId } from './names.ts';

/** A kept rejection as answered: the first issues, their total, and where it was kept. */
export interface Rejection {
  eventId?: string;
  issues: Issue[];
  issueCount: number;
  rejectedId: string;
}

export type IntakeResult =
  { status: 'accepted' | 'duplicate'; eventId: string } | ({ status: 'rejected' } & Rejection);

export interface IntakeDeps {
  events: EventsStore;
  queue: Queue;
  metrics?: Metrics;
  now: () => Date;
}

/** Backoff type registered on the hr-events worker: 500 ms doubling per attempt. */
export const HR_EVENT_BACKOFF = 'lastday-hr';

export function hrEventBackoffMs(attemptsMade: number): number {
  return 500 * 2 ** Math.max(0, attemptsMade - 1);
}

/**
 * Options of the jobs intake adds: only what differs from BullMQ's defaults.
 * Retention is the worker's (HR_EVENT_RETENTION), so each job hash carries a
 * short `opts` and jobs HR systems add themselves are bounded as well.
 */
export const HR_EVENT_JOB_OPTIONS = {
  attempts: 25,
  backoff: { type: HR_EVENT_BACKOFF },
} as const;

/**
 * Finished hr-events jobs kept: the last 100, for inspection in the
 * dashboard. Nothing depends on them: an event's idempotency is lastday's own
 * record (EventsStore), so a repeat of an event whose job is gone is answered
 * `duplicate` all the same, and what each event did is in the audit chain.
 * Few, because the queue is in the global slot: on a cluster one master holds
 * them all (1,000 kept made that master the busiest by half for a population
 * of a few hundred, docs/cluster.md). Failed jobs are kept 30 days (they hold the reason).
 */
export const HR_EVENT_RETENTION = {
  completed: { age: 24 * 3600, count: 100 },
  failed: { age: 30 * 24 * 3600 },
};

/**
 * @param raw the input as parsed
 * @param rawText the exact text received, when there was one (the HTTP body):
 *   a rejected event's size, hash and excerpt are then those of what was sent
 */
export async function submitHrEvent(
  deps: IntakeDeps,
  raw: unknown,
  source: IntakeSource,
  rawText?: string,
): Promise<IntakeResult> {
  const parsed = hrEventSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = toIssues(parsed.error, raw);
    return { status: 'rejected', ...(await rejectHrEvent(deps, { source, issues, event: raw, rawText })) };
  }
  const event = parsed.data;
  const first = await deps.events.markAccepted(event.eventId, deps.now().toISOString());
  // A duplicate is queued again too. An earlier delivery may have been marked
  // but never queued (Redis went away mid-request and the unmark below failed
  // with it); answering `duplicate` without queueing would then drop an event the
  // sender believes delivered. Adding under the deterministic job id is a no-op
  // when BullMQ still holds the job, and the worker applies an eventId once.
  try {
    await deps.queue.add(event.type, event, { ...HR_EVENT_JOB_OPTIONS, jobId: hrEventJobId(event.eventId) });
  } catch (err) {
    // Not queued: forget it so the sender's retry is accepted, not called a duplicate.
    if (first) await deps.events.unmarkAccepted(event.eventId).catch(() => undefined);
    throw err;
  }
  if (!first) return { status: 'duplicate', eventId: event.eventId };
  deps.metrics?.eventsAccepted.inc({ source });
  return { status: 'accepted', eventId: event.eventId };
}

/**
 * Keeps a refused input in the rejected list and counts it. Whatever its size
 * or nesting, what is stored and returned is bounded.
 */
export async function rejectHrEvent(
  deps: Pick<IntakeDeps, 'events' | 'metrics' | 'now'>,
  input: { source: IntakeSource; issues: readonly Issue[]; event: unknown; rawText?: string | undefined },
): Promise<Rejection> {
  const eventId = eventIdOf(input.event);
  const rejectedId = await deps.events.reject({
    at: deps.now().toISOString(),
    source: input.source,
    issues: input.issues,
    event: input.event,
    ...(input.rawText !== undefined ? { raw: input.rawText } : {}),
  });
  deps.metrics?.eventsRejected.inc({ source: input.source });
  return { ...(eventId !== undefined ? { eventId } : {}), ...boundIssues(input.issues), rejectedId };
}

/** One line for logs and failed jobs: the first issues, and how many more there were. */
export function rejectionSummary(rejection: Pick<Rejection, 'issues' | 'issueCount'>): string {
  const shown = rejection.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  const more = rejection.issueCount - rejection.issues.length;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}
