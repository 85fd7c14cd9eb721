/**
 * Processor of the `milestones` queue. Loads the person, drops stale jobs (plan
 * version moved on), puts back a job that runs before its milestone's instant
 * (promoted by hand, forged, a worker clock ahead: contract v1.1 section 3),
 * else runs every open milestone that is due, in contract order (see
 * src/domain/duePrefix.ts), and records each done. Effects are idempotent per
 * connector, so a second run of the same job does nothing twice.
 */
import { DelayedError, type Job } from 'bullmq';
import { setImmediate as yieldTurn, setTimeout as sleep } from 'node:timers/promises';
import { waitsForInstant } from '../src/domain/armLead.ts';
import { decideDue, type DueDecision, decisionNow } from '../src/domain/duePrefix.ts';
import { isOpen, type Milestone, type MilestoneName, milestoneIndex } from '../src/domain/milestone.ts';
import {
  awaitsAnnouncement,
  failureVerdict,
  lateness,
  markedDone,
  type NothingToDo,
  nothingToDo,
  withAlerted,
  withFailure,
} from '../src/domain/milestoneRun.ts';
import type { PersonRecord } from '../src/domain/person.ts';
import {
  type ConnectorOutcome,
  type EffectDeps,
  EffectFailure,
  reduceAccess,
  revokeAccess,
  verifyAccess,
} from '../src/effects/connectorEffects.ts';
import { horizonMs, scheduleMilestones } from '../src/queues/milestones.ts';
import type { MilestoneJobData } from '../src/queues/names.ts';
import type { Alert } from '../src/telemetry/alerts.ts';
import type { JobPorts } from './ports.ts';

export type MilestoneResult = { outcome: 'done'; ran: MilestoneName[] } | NothingToDo | EarlyRun;

/** The job's own milestone is not due: nothing ran, the job goes back to its instant. */
export interface EarlyRun {
  outcome: 'early';
  milestone: MilestoneName;
  dueAt: string;
  /** The instant decided on (see decisionNow), and the clocks it came from. */
  nowMs: number;
  workerNowMs: number;
  referenceNowMs?: number;
  earlyMs: number;
}

/**
 * What the milestone processor uses. `freeze` holds or cancels the person's
 * pending destructive actions through the guard, which is always built in.
 */
export type MilestonePorts = EffectDeps &
  Pick<
    JobPorts,
    'people' | 'audit' | 'lock' | 'policy' | 'referenceNowMs' | 'notifier' | 'queues' | 'settings'
  > & {
    guard: { freeze(record: PersonRecord): Promise<Record<string, unknown>> };
  };

const BUSY_RETRY_MS = 50;

export function createMilestoneProcessor(ctx: MilestonePorts) {
  return async (job: Job<MilestoneJobData>, token?: string): Promise<MilestoneResult> => {
    const { personId } = job.data;
    // The person and the reference clock are read in the lock's round trip,
    // and for a revoke what the connectors' one-write revokes start from.
    const result = await ctx.lock.withLockRead(
      personId,
      () => readJobInputs(ctx, personId, job.data.milestone === 'revoke'),
      (read) => runMilestoneJob(ctx, job.data, read),
    );
    if (!result.locked) {
      // Stale and not-open are final for a job (a plan never reopens a milestone
      // without a new version), so a job whose milestone another job already ran
      // inline completes now instead of waiting for the lock to do nothing.
      const { record } = result.read;
      const skip = nothingToDo(record, job.data);
      if (skip) {
        // The job that ran it may have died before handing over (its lock still
        // held): hand over here. Idempotent, so a live holder adding it too is fine.
        if (skip.outcome === 'not_open') await scheduleNext(ctx, record!);
        return skip;
      }
      await job.moveToDelayed(Date.now() + BUSY_RETRY_MS + Math.random() * BUSY_RETRY_MS, token);
      throw new DelayedError();
    }
    if (result.value.outcome === 'early') await putBack(ctx, job, token, result.value);
    return result.value;
  };
}

/** What a milestone job decides on: the person as stored, and the reference clock (if any). */
export interface JobInputs {
  record: PersonRecord | undefined;
  referenceNowMs: number | undefined;
  /**
   * For a revoke job: what each connector with a one-write revoke starts from
   * (Connector.readForRevoke), by connector name; the first revoke attempt
   * uses it instead of reading again. Only a head start: the write re-checks.
   */
  revokeReads?: ReadonlyMap<string, unknown>;
}

/** Reads the person and the reference clock together (one round trip); for a revoke, the connectors' reads too. */
async function readJobInputs(ctx: MilestonePorts, personId: string, revoke = false): Promise<JobInputs> {
  const readers = revoke ? ctx.connectors.filter((c) => c.readForRevoke) : [];
  const [record, referenceNowMs, ...reads] = await Promise.all([
    ctx.people.get(personId),
    ctx.referenceNowMs?.(),
    ...readers.map((c) => c.readForRevoke!(personId)),
  ]);
  if (readers.length === 0) return { record, referenceNowMs };
  return {
    record,
    referenceNowMs,
    revokeReads: new Map(readers.map((c, i) => [c.name, reads[i]])),
  };
}

/**
 * Sends a job that ran before its milestone's instant back to that instant and
 * audits it, once per early run. BullMQ timestamps delays with the worker's own
 * clock, so the new delay is "how early", counted from that clock: with an
 * injected clock (tests) the job still comes back when that clock reaches
 * `dueAt`, and on the system clock its timestamp is `dueAt` itself.
 */
async function putBack(
  ctx: Pick<MilestonePorts, 'audit' | 'log' | 'now'>,
  job: Job<MilestoneJobData>,
  token: string | undefined,
  early: EarlyRun,
): Promise<never> {
  const details = {
    milestone: early.milestone,
    jobId: job.id,
    jobName: job.name,
    planVersion: job.data.version,
    dueAt: early.dueAt,
    now: new Date(early.nowMs).toISOString(),
    earlyMs: early.earlyMs,
    attempt: job.attemptsStarted,
    workerNow: new Date(early.workerNowMs).toISOString(),
    ...(early.referenceNowMs !== undefined ? { redisNow: new Date(early.referenceNowMs).toISOString() } : {}),
  };
  await ctx.audit.append({
    at: ctx.now().toISOString(),
    type: 'milestone.early_run',
    actor: 'lastday',
    personId: job.data.personId,
    details,
  });
  ctx.log.warn({ personId: job.data.personId, ...details }, 'milestone job ran before its instant; put back');
  await job.moveToDelayed(Date.now() + early.earlyMs, token);
  throw new DelayedError();
}

/**
 * Runs a milestone job (the person lock held). `read` is what was read with
 * the lock (the processor's one round trip); read here when not given.
 */
export async function runMilestoneJob(
  ctx: MilestonePorts,
  data: MilestoneJobData,
  read?: JobInputs,
): Promise<MilestoneResult> {
  const { record, referenceNowMs, revokeReads } = read ?? (await readJobInputs(ctx, data.personId));
  const skip = nothingToDo(record, data);
  if (skip) {
    // Its milestone was run by another job (catch-up): the plan goes on all the same.
    if (skip.outcome === 'not_open') await scheduleNext(ctx, record!);
    return skip;
  }
  const target = record!.milestones.find((m) => m.name === data.milestone)!;
  const readAtMs = performance.now();

  // Nothing takes effect before its own instant. Before this job's milestone is
  // due the job does nothing but go back (the processor re-delays and audits
  // it). Once it is due, the whole due prefix runs here, in contract order:
  // earlier milestones still open (catch-up), this one, then later ones already
  // due (catch-forward; a termination makes reduce, freeze and revoke due at
  // once). The first of those jobs to get the person lock does them all and the
  // others find them done. A worker clock behind the scheduler's cannot reorder
  // them: its job is early and comes back; plans are in order, so when a
  // milestone is due every earlier one is too.
  // A failure does not block the rest: each milestone keeps retrying in its own
  // job; only this job's own milestone fails this job.
  // A job delivered the arm lead ahead (src/domain/armLead.ts) waits here for
  // its instant, holding the lock, with the person and the revoke reads in hand.
  const { decision, nowMs, workerNowMs, ...clocks } = await decideAtInstant(
    ctx,
    record!.milestones,
    target,
    referenceNowMs === undefined ? undefined : { referenceNowMs, readAtMs },
  );
  if (decision.kind === 'early') {
    return {
      outcome: 'early',
      milestone: target.name,
      dueAt: decision.dueAt,
      nowMs,
      workerNowMs,
      ...clocks,
      earlyMs: decision.earlyMs,
    };
  }
  const targetIndex = milestoneIndex(target.name);
  const prefix = decision.run;
  // The hand-over to the next open milestone's job goes out once the first
  // milestone's effects are done, beside its save, as if the whole prefix
  // succeeds: it is then off this job's path (and off the worker slot's), and
  // not ahead of the first effect (a revoke's disable). Adding it early is
  // safe: it is delayed to its own milestone's instant and acts no sooner
  // (decideDue; an early run goes back), its id carries this plan version
  // (stale once the plan moves on), and the milestones before it that are
  // still open by then run first as its catch-up. Awaited before this job
  // completes, so a failed add fails the job and its retry (finding its
  // milestone done) hands over again.
  const doneAt = new Date(nowMs).toISOString();
  let handover: Promise<void> | undefined;
  const handOver = (): Promise<void> => {
    if (!handover) {
      handover = scheduleNext(ctx, {
        ...record!,
        milestones: prefix.reduce((ms, m) => markedDone(ms, m.name, doneAt), record!.milestones),
      });
      handover.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    }
    return handover;
  };
  const ran: MilestoneName[] = [];
  let failed: { err: unknown } | undefined;
  // The record is carried from one milestone to the next: this job holds the
  // person lock, and every save is revision-checked, so a write we did not see
  // fails the save (the job retries) instead of being overwritten.
  let current = record!;
  for (const m of prefix) {
    try {
      current = await runOne(ctx, current, m.name, handOver, revokeReads);
      ran.push(m.name);
    } catch (err) {
      // A failure was recorded on the person (new revision): read it again.
      current = (await ctx.people.get(data.personId)) ?? current;
      if (m.name === target.name) {
        failed = { err };
        continue;
      }
      ctx.log.warn(
        { personId: data.personId, milestone: m.name, err: (err as Error).message },
        milestoneIndex(m.name) < targetIndex ? 'catch-up failed' : 'catch-forward failed',
      );
    }
  }
  // One job per person: this one hands over to the next open milestone's job
  // (sent above). When a milestone failed and retries, the plan wants the jobs
  // of what the saved record has open (milestonesWithJobs: the one after a
  // failing milestone gets its job too, so a failing reduce never delays revoke).
  if (ran.length === prefix.length) {
    await handOver();
  } else {
    await handOver().catch(() => undefined);
    await scheduleNext(ctx, current);
  }
  if (failed) throw failed.err;
  return { outcome: 'done', ran };
}

interface TimedDecision {
  decision: DueDecision;
  nowMs: number;
  workerNowMs: number;
  referenceNowMs?: number;
}

/**
 * Decides on `target` (decideDue) and, while it is early by no more than the
 * arm lead allows (waitsForInstant), sleeps until its instant and decides again.
 * The reference clock, read once with the person at `readAtMs`
 * (performance.now()), is carried forward by the monotonic time since, never
 * more: it is never taken as further along than it is. A wait that
 * brings the instant no nearer (an injected clock that stands still) ends it:
 * the job is then an early run, as without the lead.
 */
async function decideAtInstant(
  ctx: Pick<MilestonePorts, 'now'>,
  milestones: PersonRecord['milestones'],
  target: Milestone,
  reference?: { referenceNowMs: number; readAtMs: number },
): Promise<TimedDecision> {
  const decide = (): TimedDecision => {
    const workerNowMs = ctx.now().getTime();
    const referenceNowMs =
      reference && reference.referenceNowMs + Math.floor(performance.now() - reference.readAtMs);
    const nowMs = decisionNow(workerNowMs, referenceNowMs);
    return {
      decision: decideDue(milestones, target, nowMs),
      nowMs,
      workerNowMs,
      ...(referenceNowMs !== undefined ? { referenceNowMs } : {}),
    };
  };
  let decided = decide();
  while (decided.decision.kind === 'early' && waitsForInstant(decided.decision.earlyMs)) {
    const earlyMs = decided.decision.earlyMs;
    await sleep(earlyMs);
    decided = decide();
    if (decided.decision.kind === 'early' && decided.decision.earlyMs >= earlyMs) break;
  }
  return decided;
}

/** Adds the jobs the saved plan wants now (src/domain/milestoneJobs.ts); idempotent. */
async function scheduleNext(ctx: MilestonePorts, record: PersonRecord): Promise<void> {
  await scheduleMilestones(ctx.queues.milestones, record, ctx.now().getTime(), horizonMs(ctx.settings));
}

/**
 * Runs one milestone's effects and marks it done; returns the saved record.
 * `afterEffects` is called once the effects are done, before the save;
 * `revokeReads` are the job's connector reads for a revoke (JobInputs).
 */
async function runOne(
  ctx: MilestonePorts,
  record: PersonRecord,
  name: MilestoneName,
  afterEffects?: () => unknown,
  revokeReads?: ReadonlyMap<string, unknown>,
): Promise<PersonRecord> {
  const personId = record.person.id;
  const milestone = record.milestones.find((m) => m.name === name);
  if (!milestone || !isOpen(milestone)) return record;
  let details: Record<string, unknown>;
  try {
    details = await effectsOf(ctx, record, name, revokeReads);
  } catch (err) {
    await recordFailure(ctx, personId, milestone, err);
    throw err;
  }
  // The effects are done; the bookkeeping (hand-over, save, audit) waits one
  // turn of the event loop, so the writes of other people due at the same
  // instant, whose replies or timers are already here, go first: disable
  // everyone, then tidy. Nothing is lost meanwhile: the effect is recorded
  // (idempotent per connector) and this job still holds the lock.
  await yieldTurn();
  afterEffects?.();
  const now = ctx.now();
  const { lateMs, hrLateMs } = lateness(milestone, now.getTime());
  const saved = await ctx.people.save(
    {
      ...record,
      updatedAt: now.toISOString(),
      milestones: markedDone(record.milestones, name, now.toISOString()),
    },
    {
      at: now.toISOString(),
      type: 'milestone.done',
      actor: 'lastday',
      personId,
      details: {
        milestone: name,
        dueAt: milestone.dueAt,
        ...(milestone.actionableAt ? { actionableAt: milestone.actionableAt } : {}),
        lateMs,
        ...(hrLateMs > 0 ? { hrLateMs } : {}),
        planVersion: record.planVersion,
        ...details,
      },
    },
    // What reduce and revoke removed is kept for a reinstatement this long, then
    // trimmed by the retention task: set with the save, so a revoke recorded done
    // always has its retention entry (a rerun after a failed save sets it again).
    name === 'revoke'
      ? { keepSnapshotsUntilMs: now.getTime() + ctx.policy.reinstateWithinDays * 86_400_000 }
      : {},
  );
  ctx.metrics.milestonesDone.inc({ milestone: name });
  ctx.metrics.milestoneLateness.observe({ milestone: name }, Math.max(0, lateMs) / 1000);
  ctx.metrics.hrEventLateness.observe({ milestone: name }, Math.max(0, hrLateMs) / 1000);
  ctx.log.info(
    { personId, milestone: name, lateMs, ...(hrLateMs > 0 ? { hrLateMs } : {}) },
    'milestone done',
  );
  return saved;
}

async function effectsOf(
  ctx: MilestonePorts,
  record: PersonRecord,
  name: MilestoneName,
  revokeReads?: ReadonlyMap<string, unknown>,
): Promise<Record<string, unknown>> {
  const outcomes = (list: ConnectorOutcome[]) => ({ connectors: list });
  switch (name) {
    case 'notice': {
      ctx.log.info(
        { personId: record.person.id, lastDay: record.lastDay, endsAt: record.endsAt },
        'offboarding notice: access will be revoked at endsAt',
      );
      // Queued, not sent: delivery is the outbox's job, and the notifier never
      // throws, so no mail server can fail or stall the milestone.
      const notification = await ctx.notifier.notice(record);
      return { lastDay: record.lastDay, endsAt: record.endsAt, notification };
    }
    case 'reduce':
      return outcomes(await reduceAccess(ctx, record));
    case 'freeze':
      return ctx.guard.freeze(record);
    case 'revoke':
      return outcomes(await revokeAccess(ctx, record, revokeReads));
    case 'verify':
      return outcomes(await verifyAccess(ctx, record));
  }
}

/**
 * Keeps the error on the milestone for ops. Past its deadline (or at once for an
 * error that waiting cannot fix, such as refused credentials) the milestone is
 * marked `failed` and alerted on, once; the job keeps retrying either way.
 *
 * The alert cannot be lost to a crash: its audit entry is written in the save
 * that marks the milestone `failed`, and its announcement (notifier, webhook)
 * is recorded as `alertedAt` once made. An attempt that finds a `failed`
 * milestone without it (a crash in between) announces it then.
 */
async function recordFailure(
  ctx: MilestonePorts,
  personId: string,
  milestone: Milestone,
  err: unknown,
): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  const now = ctx.now();
  const hopeless =
    err instanceof EffectFailure && err.outcomes.some((o) => o.status === 'failed' && o.retryable === false);
  const fresh = await ctx.people.get(personId);
  if (!fresh) return;
  const { markFailed } = failureVerdict({
    milestone,
    currentState: fresh.milestones.find((m) => m.name === milestone.name)?.state,
    nowMs: now.getTime(),
    failAfterMinutes: ctx.policy.failAfterMinutes,
    hopeless,
  });
  const alert: Alert = {
    kind: 'milestone_failed',
    message: `${milestone.name} for ${personId} is failing past its deadline: ${message}`,
    personId,
    details: {
      milestone: milestone.name,
      dueAt: milestone.dueAt,
      ...(err instanceof EffectFailure ? { connectors: err.outcomes } : {}),
    },
  };
  const saved = await ctx.people.save(
    {
      ...fresh,
      milestones: withFailure(fresh.milestones, milestone.name, message, markFailed, now.toISOString()),
    },
    markFailed ? ctx.alerts.entry(alert, now) : undefined,
  );
  ctx.log.warn({ personId, milestone: milestone.name, err: message }, 'milestone attempt failed; will retry');
  const failed = saved.milestones.find((m) => m.name === milestone.name);
  if (!awaitsAnnouncement(failed)) return;
  // The same failure announced again (after a crash) has the same webhook-id.
  await ctx.alerts.announce(
    { ...alert, dedupeKey: `${personId} ${milestone.name} ${failed!.failedAt}` },
    now,
  );
  await ctx.people.save({
    ...saved,
    milestones: withAlerted(saved.milestones, milestone.name, ctx.now().toISOString()),
  });
}
