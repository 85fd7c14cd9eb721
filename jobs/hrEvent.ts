/**
 * Processor of the `hr-events` queue: validates the event (any BullMQ client may
 * have written it), applies it to the person and saves the new plan with its
 * audit entry and the event noted as handled in one write, then schedules the plan's
 * next milestone.
 *
 * One read (the person, whose record names the events handled for them), the
 * domain in Node, one write (revision-checked, the event noted in the record):
 * a conflict reads and applies again. The person lock is
 * taken only when a milestone job could be at work on the person, or an
 * effect already happened (see needsLock); a new person, or one whose plan
 * is all still ahead, needs none: no job acts on them, and the revision check
 * orders the HR events among themselves.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { DateTime } from 'luxon';
import { LastdayError, type Issue } from '../src/domain/errors.ts';
import { type HrEvent, hrEventSchema } from '../src/domain/hrEvent.ts';
import { applyHrEvent, handledEvent, type PersonRecord, statusOf } from '../src/domain/person.ts';
import { toIssues } from '../src/domain/zodIssues.ts';
import { revokeTookEffect } from '../src/effects/connectorEffects.ts';
import { rejectHrEvent, rejectionSummary } from '../src/queues/intake.ts';
import { horizonMs, unscheduleVersion } from '../src/queues/milestones.ts';
import type { KeyMark } from '../src/store/events.ts';
import { ensurePlan, type EnsurePlanPorts } from './ensurePlan.ts';
import type { JobPorts } from './ports.ts';

export type HrEventResult =
  | { outcome: 'applied'; planVersion: number; status: string }
  | { outcome: 'duplicate' | 'stale'; reason: string };

export type HrEventPorts = EnsurePlanPorts &
  Pick<JobPorts, 'people' | 'events' | 'audit' | 'lock' | 'policy'>;

/** Delay before retrying an event whose person is busy with another job. */
const BUSY_RETRY_MS = 50;

/**
 * How far ahead of now a person's first open milestone must be for an event to
 * be applied without the lock: no job of theirs can be running before its
 * instant (an early one only goes back), with room for a paused worker and
 * clocks apart (CLOCK_TOLERANCE_MS is 1 s).
 */
export const LOCKLESS_MARGIN_MS = 60_000;

/** Revision conflicts an event applied without the lock retries before it falls back to the lock. */
const LOCKLESS_ATTEMPTS = 5;

/** Read of the person, and whether the event was handled already, done once per attempt. */
interface EventRead {
  record: PersonRecord | undefined;
  handled: boolean;
}

/**
 * The person (their partition), whose record names the events handled for
 * them (recentEvents). Only for a person whose events were handled before the
 * record kept them, the marks of that version are read too.
 */
async function readForEvent(ctx: HrEventPorts, event: HrEvent, mark?: KeyMark): Promise<EventRead> {
  const record = mark
    ? await ctx.people.getMarking(event.person.id, mark)
    : await ctx.people.get(event.person.id);
  const handled = handledEvent(record, event.eventId) ?? (await ctx.events.isApplied(event.eventId));
  return { record, handled };
}

/**
 * Whether applying an event to `record` must hold the person lock: a milestone
 * is due (or nearly: its job may be at work), or one was attempted or done
 * (effects happened: restore, reinstatement flags, snapshots must see them
 * under the lock, as the milestone jobs do).
 */
export function needsLock(record: PersonRecord | undefined, nowMs: number): boolean {
  if (!record) return false;
  return record.milestones.some(
    (m) =>
      m.state !== 'scheduled' ||
      m.lastError !== undefined ||
      Date.parse(m.dueAt) <= nowMs + LOCKLESS_MARGIN_MS,
  );
}

export function createHrEventProcessor(ctx: HrEventPorts) {
  return async (job: Job, token?: string): Promise<HrEventResult> => {
    const event = await validate(ctx, job);
    // Events added to the queue directly were never seen by intake: remember
    // them so the same eventId over HTTP answers `duplicate` (set by the first read).
    const firstRead = await readForEvent(
      ctx,
      event,
      ctx.events.acceptedMark(event.eventId, ctx.now().toISOString()),
    );
    for (let attempt = 1; attempt <= LOCKLESS_ATTEMPTS; attempt++) {
      const read = attempt === 1 ? firstRead : await readForEvent(ctx, event);
      if (needsLock(read.record, ctx.now().getTime())) break;
      try {
        return await applyEvent(ctx, event, read);
      } catch (err) {
        if (!(err instanceof LastdayError && err.code === 'conflict')) throw err;
      }
    }
    const result = await ctx.lock.withLock(event.person.id, () => applyEvent(ctx, event));
    if (!result.locked) {
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS + Math.random() * BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    return result.value;
  };
}

async function validate(ctx: HrEventPorts, job: Job): Promise<HrEvent> {
  const parsed = hrEventSchema.safeParse(job.data);
  const issues: Issue[] = parsed.success ? [] : toIssues(parsed.error, job.data);
  if (parsed.success && job.name !== parsed.data.type) {
    issues.push({ path: 'type', message: `differs from the job name "${job.name}"` });
  }
  if (parsed.success && issues.length === 0) return parsed.data;
  // Kept bounded through the shared intake layer: job data of any size or depth
  // (another client's 20,000 nested arrays) is stored and reported in bounds.
  const rejection = await rejectHrEvent(ctx, { source: 'queue', issues, event: job.data });
  // Not retried: the same input fails the same way. Kept in the rejected list and as a failed job.
  throw new UnrecoverableError(`invalid event: ${rejectionSummary(rejection)}`);
}

/**
 * For the `hr-events` worker (src/queues/jsonSafeWorker.ts): a job whose data
 * is not JSON at all is kept as rejected too, with the raw text; the worker then
 * fails it once.
 */
export function createUnparsableHrEventHandler(ctx: Pick<JobPorts, 'events' | 'metrics' | 'now'>) {
  return async (_job: Job, raw: string, reason: string): Promise<void> => {
    await rejectHrEvent(ctx, {
      source: 'queue',
      issues: [{ path: '', message: reason }],
      event: raw,
      rawText: raw,
    });
  };
}

/**
 * Applies `event` to the person as `read` found them (read now when not given).
 * @throws LastdayError `conflict` when the person changed since the read.
 */
export async function applyEvent(
  ctx: HrEventPorts,
  event: HrEvent,
  read?: EventRead,
): Promise<HrEventResult> {
  const now = ctx.now();
  const { record: current, handled } = read ?? (await readForEvent(ctx, event));
  const result = handled
    ? ({ outcome: 'duplicate', reason: `event ${event.eventId} is already applied` } as const)
    : applyHrEvent(current, event, ctx.policy, DateTime.fromJSDate(now, { zone: 'utc' }), {
        revokeStarted:
          current !== undefined &&
          !current.cancelled &&
          current.reinstatement?.cycle !== current.cycle &&
          // Without an attempted revoke (needsLock false) nothing was revoked: no read.
          needsLock(current, now.getTime()) &&
          (await revokeTookEffect(ctx, current)),
      });

  if (result.outcome !== 'applied') {
    ctx.metrics.eventsApplied.inc({ outcome: result.outcome });
    if (result.outcome === 'stale') {
      // Recorded in the record's handled events with its audit entry, in one
      // revision-checked write: a job run again after it finds it and is a duplicate.
      await ctx.people.save(result.record, {
        at: now.toISOString(),
        type: 'hr_event.stale',
        actor: 'hr',
        personId: event.person.id,
        details: {
          eventId: event.eventId,
          type: event.type,
          occurredAt: event.occurredAt,
          reason: result.reason,
        },
      });
    }
    // Redelivery after a crash: make sure the saved plan is carried out.
    if (current && result.outcome === 'duplicate') await ensurePlan(ctx, current);
    return result;
  }

  const saved = await ctx.people.save(result.record, {
    at: now.toISOString(),
    type: 'hr_event.applied',
    actor: 'hr',
    personId: event.person.id,
    details: {
      eventId: event.eventId,
      type: event.type,
      occurredAt: event.occurredAt,
      ...(event.reason !== undefined ? { reason: event.reason } : {}),
      planVersion: result.record.planVersion,
      lastDay: result.record.lastDay,
      endsAt: result.record.endsAt,
      milestones: result.record.milestones.map((m) => ({ name: m.name, dueAt: m.dueAt, state: m.state })),
      ...result.consequences,
    },
  });
  ctx.metrics.eventsApplied.inc({ outcome: 'applied' });
  if (current)
    await unscheduleVersion(ctx.queues.milestones, current, now.getTime(), horizonMs(ctx.settings));
  await keepPartialRevokeSnapshots(ctx, current, saved);
  // A person new to lastday had nothing reduced: no effects to read back.
  await ensurePlan(ctx, saved, { created: current === undefined });
  ctx.log.info(
    { personId: saved.person.id, eventId: event.eventId, type: event.type, endsAt: saved.endsAt },
    'hr event applied',
  );
  return { outcome: 'applied', planVersion: saved.planVersion, status: statusOf(saved) };
}

/**
 * A revoke that took effect somewhere and was then called off (its milestone
 * cancelled, `reinstatementRequired`) never reaches the `revoke` milestone's
 * own bookkeeping: keep its snapshots for the reinstatement window, counted
 * from the revoke's `dueAt` as domain/reinstatement.ts counts it.
 */
async function keepPartialRevokeSnapshots(
  ctx: Pick<JobPorts, 'effects' | 'policy'>,
  before: PersonRecord | undefined,
  after: PersonRecord,
): Promise<void> {
  if (!after.reinstatementRequired || before?.reinstatementRequired) return;
  const revoke = after.milestones.find((m) => m.name === 'revoke');
  if (!revoke || revoke.state === 'done') return; // the milestone recorded it
  await ctx.effects.keepSnapshotsUntil(
    after.person.id,
    after.cycle,
    Date.parse(revoke.dueAt) + ctx.policy.reinstateWithinDays * 86_400_000,
  );
}
