/**
 * Scheduling milestone jobs. Every open milestone of the current plan has one
 * delayed job whose id carries the plan version; replanning removes the jobs of
 * the superseded version as a courtesy, but nothing depends on that removal:
 * a job of an old version finds the person's plan moved on and does nothing.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from '../store/redisClient.ts';
import { MILESTONES } from '../domain/milestone.ts';
import { openMilestones, type PersonRecord } from '../domain/person.ts';
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
 * How much later than its instant a milestone's own job runs when a later
 * milestone's job, due at the same moment or earlier, runs it first (catch-up
 * in jobs/milestone.ts). That job is the safety net: normally it finds its
 * milestone done and does nothing.
 */
export const COVERED_DELAY_MS = 5_000;

export async function scheduleMilestones(
  queue: Queue<MilestoneJobData>,
  record: PersonRecord,
  nowMs: number,
): Promise<string[]> {
  const open = openMilestones(record);
  if (open.length === 0) return [];
  const delays = open.map((m) => Math.max(0, Date.parse(m.dueAt) - nowMs));
  const jobs = open.map((m, i) => {
    const jobId = milestoneJobId(record.person.id, record.planVersion, m.name);
    // Milestones due together (past-due ones at planning, or a termination's
    // reduce, freeze and revoke at one instant) would all race for the person
    // lock; only the last of them runs at its instant and does the others first,
    // in order. Theirs follow a little later and normally find nothing to do.
    const covered = delays.some((d, k) => k > i && d <= delays[i]!);
    const delay = delays[i]! + (covered ? COVERED_DELAY_MS : 0);
    return {
      name: m.name,
      data: { personId: record.person.id, version: record.planVersion, milestone: m.name },
      opts: { ...baseOptions, jobId, delay },
    };
  });
  await queue.addBulk(jobs);
  return jobs.map((j) => j.opts.jobId);
}

/** Best-effort removal of an older plan's delayed jobs. */
export async function unscheduleVersion(
  queue: Queue<MilestoneJobData>,
  personId: string,
  version: number,
): Promise<void> {
  if (version < 1) return;
  await Promise.allSettled(MILESTONES.map((m) => queue.remove(milestoneJobId(personId, version, m))));
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
