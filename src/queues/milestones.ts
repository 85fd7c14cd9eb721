/**
 * Scheduling milestone jobs. A person has one delayed job: the job of the
 * first open milestone of the current plan (and of the next one while that
 * one is failing; see src/domain/milestoneJobs.ts), with an id that carries
 * the plan version, and none for a milestone beyond the horizon. The job runs
 * the due prefix and schedules the next one (jobs/milestone.ts). Replanning
 * removes the jobs of the superseded version as a courtesy, but nothing
 * depends on that removal: a job of an old version finds the person's plan
 * moved on and does nothing.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Settings } from '../config/load.ts';
import type { RedisClient } from '../store/redisClient.ts';
import { deliveryDelayMs } from '../domain/armLead.ts';
import type { Milestone } from '../domain/milestone.ts';
import { milestonesWithJobs } from '../domain/milestoneJobs.ts';
import type { PersonRecord } from '../domain/person.ts';
import { type MilestoneJobData, milestoneJobId } from './names.ts';

/** Backoff type registered on the milestone worker (see ./backoff.ts). */
export const MILESTONE_BACKOFF = 'lastday-capped';

const baseOptions: JobsOptions = {
  // A failing effect keeps retrying (capped backoff) for days; the milestone is
  // marked failed and alerted on once its deadline passes.
  attempts: 2_000,
  backoff: { type: MILESTONE_BACKOFF },
  removeOnComplete: { age: 7 * 24 * 3600, count: 50_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/**
 * A milestone job as `Queue.add`/`addBulk` take it (id deterministic: adding it
 * twice is a no-op), scheduled at `nowMs`: delivered the arm lead before its
 * milestone's instant (src/domain/armLead.ts), at once when that has passed.
 */
export function milestoneJob(
  record: PersonRecord,
  milestone: Pick<Milestone, 'name' | 'dueAt'>,
  nowMs: number,
) {
  const { name } = milestone;
  return {
    name,
    data: { personId: record.person.id, version: record.planVersion, milestone: name },
    opts: {
      ...baseOptions,
      jobId: milestoneJobId(record.person.id, record.planVersion, name),
      delay: deliveryDelayMs(milestone.dueAt, nowMs),
    },
  };
}

/**
 * Adds the jobs `record` wants now (milestonesWithJobs), each delivered the
 * arm lead before its milestone's own instant; returns their ids. Idempotent.
 */
export async function scheduleMilestones(
  queue: Queue<MilestoneJobData>,
  record: PersonRecord,
  nowMs: number,
  horizonMs: number,
): Promise<string[]> {
  const jobs = milestonesWithJobs(record, nowMs, horizonMs).map((m) => milestoneJob(record, m, nowMs));
  // One `add` per job, not `addBulk`: a person wants one job (two while one
  // fails), and addBulk builds an ioredis pipeline, which copies every BullMQ
  // script command onto it (measured: ~16 % of the worker's CPU while a burst of
  // revokes ran). Sent together, the adds still take one round trip.
  await Promise.all(jobs.map((j) => queue.add(j.name, j.data, j.opts)));
  return jobs.map((j) => j.opts.jobId);
}

/**
 * Best-effort removal of a superseded plan's jobs: those it had by
 * milestonesWithJobs at `nowMs` (usually one; none for a plan all beyond the
 * horizon). A job left behind finds its version stale and does nothing.
 */
export async function unscheduleVersion(
  queue: Queue<MilestoneJobData>,
  old: PersonRecord,
  nowMs: number,
  horizonMs: number,
): Promise<void> {
  if (old.planVersion < 1) return;
  await Promise.allSettled(
    milestonesWithJobs(old, nowMs, horizonMs).map((m) =>
      queue.remove(milestoneJobId(old.person.id, old.planVersion, m.name)),
    ),
  );
}

/**
 * Which of `jobIds` exist on the milestones queue, in order. Most open
 * milestones wait in the delayed set: one ZMSCORE answers for the whole batch;
 * only the others need an EXISTS each. `redis` is the queue's connection.
 */
export async function existingJobs(
  queue: Queue<MilestoneJobData>,
  redis: RedisClient,
  jobIds: readonly string[],
): Promise<boolean[]> {
  if (jobIds.length === 0) return [];
  const scores = await redis.zmscore(queue.keys.delayed!, ...jobIds);
  const exists = scores.map((score) => score !== null);
  const rest = jobIds.map((id, i) => ({ id, i })).filter(({ i }) => !exists[i]);
  if (rest.length > 0) {
    const pipeline = redis.pipeline();
    for (const { id } of rest) pipeline.exists(queue.toKey(id));
    const answers = (await pipeline.exec()) ?? [];
    rest.forEach(({ i }, k) => {
      const [err, n] = answers[k] ?? [null, 0];
      exists[i] = !err && Number(n) === 1;
    });
  }
  return exists;
}

/** The horizon in ms: LASTDAY_HORIZON_HOURS, else `workers.horizonHours`. */
export function horizonMs(settings: Settings): number {
  return (settings.env.LASTDAY_HORIZON_HOURS ?? settings.config.workers.horizonHours) * 3_600_000;
}
