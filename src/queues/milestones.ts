/**
 * Scheduling milestone jobs. Every open milestone of the current plan has one
 * delayed job whose id carries the plan version; replanning removes the jobs of
 * the superseded version as a courtesy, but nothing depends on that removal:
 * a job of an old version finds the person's plan moved on and does nothing.
 */
import type { JobsOptions, Queue } from 'bullmq';
import { MILESTONES } from '../domain/milestone.ts';
import { openMilestones, type PersonRecord } from '../domain/person.ts';
import { type MilestoneJobData, milestoneJobId } from './names.ts';

/** Backoff type registered on the milestone worker (see jobs/backoff.ts). */
export const MILESTONE_BACKOFF = 'lastday-capped';

const baseOptions: JobsOptions = {
  // A failing effect keeps retrying (capped backoff) for days; the milestone is
  // marked failed and alerted on once its deadline passes.
  attempts: 2_000,
  backoff: { type: MILESTONE_BACKOFF },
  removeOnComplete: { age: 7 * 24 * 3600, count: 50_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

export async function scheduleMilestones(
  queue: Queue<MilestoneJobData>,
  record: PersonRecord,
  nowMs: number,
): Promise<string[]> {
  const open = openMilestones(record);
  if (open.length === 0) return [];
  const jobs = open.map((m) => {
    const jobId = milestoneJobId(record.person.id, record.planVersion, m.name);
    return {
      name: m.name,
      data: { personId: record.person.id, version: record.planVersion, milestone: m.name },
      opts: { ...baseOptions, jobId, delay: Math.max(0, Date.parse(m.dueAt) - nowMs) },
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
