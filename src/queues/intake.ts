/**
 * The one entry point for HR events arriving over HTTP or the CLI: validate,
 * keep rejects with their reasons, answer duplicates, queue the rest on
 * `hr-events` with a deterministic job id. Events that HR systems add to the
 * queue directly are validated by the worker instead (jobs/hrEvent.ts).
 */
import type { Queue } from 'bullmq';
import type { Metrics } from '../app/metrics.ts';
import type { Issue } from '../domain/errors.ts';
import { hrEventSchema } from '../domain/hrEvent.ts';
import { toIssues } from '../domain/zodIssues.ts';
import type { EventsStore, IntakeSource } from '../store/events.ts';
import { hrEventJobId } from './names.ts';

export type IntakeResult =
  | { status: 'accepted' | 'duplicate'; eventId: string }
  | { status: 'rejected'; eventId?: string; issues: Issue[]; rejectedId: string };

export interface IntakeDeps {
  events: EventsStore;
  queue: Queue;
  metrics?: Metrics;
  now: () => Date;
}

export const HR_EVENT_JOB_OPTIONS = {
  attempts: 25,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
} as const;

export async function submitHrEvent(
  deps: IntakeDeps,
  raw: unknown,
  source: IntakeSource,
): Promise<IntakeResult> {
  const parsed = hrEventSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = toIssues(parsed.error, raw);
    const eventId =
      typeof (raw as { eventId?: unknown })?.eventId === 'string'
        ? (raw as { eventId: string }).eventId
        : undefined;
    const rejectedId = await deps.events.reject({
      at: deps.now().toISOString(),
      source,
      ...(eventId !== undefined ? { eventId } : {}),
      issues,
      event: raw,
    });
    deps.metrics?.eventsRejected.inc({ source });
    return { status: 'rejected', ...(eventId !== undefined ? { eventId } : {}), issues, rejectedId };
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
