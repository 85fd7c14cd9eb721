/**
 * Reconcile: the self-healing pass the `reconcile` cron runs (and `lastday run
 * reconcile`). First the horizon pass: people whose next milestone comes
 * within the horizon (the next-due index, src/domain/milestoneJobs.ts) get
 * its job, in bulk; milestones further ahead have none. Then, for every person
 * with open milestones, it makes sure the jobs the plan wants now (the first
 * open milestone's, and the next one's while that one is failing) exist, and
 * that a milestone already past due will run now:
 *
 * - job missing (lost, deleted, never scheduled after a crash) → scheduled again
 *   with the plan's deterministic id (scheduleMilestones is idempotent);
 * - past due but still delayed (planned while no worker ran, a clock jump) → promoted;
 * - past due and failed for good, or completed while the milestone is still
 *   open → removed and added again.
 *
 * Before that, a person whose plan came from an older policy (a holiday added,
 * a count changed, a scope added: the plan's stamp differs from the config's)
 * is replanned under the current one (replanPolicy.ts): open milestones not
 * yet due move, with a new plan version, new jobs and a `policy.replanned`
 * audit entry. A pass that left nobody behind records the policy's fingerprint,
 * so a start-up under an unchanged config does not ask for an extra pass
 * (src/app/crons.ts).
 *
 * Effects are never run here: the milestone workers run them under the
 * person lock, so a reconcile racing a worker cannot do anything twice. People
 * are walked in batches with ZSCAN over the by-end index (a replan may move a
 * person's end, which a walk by rank could skip); only one batch is in memory.
 */
import { isOpen } from '../../src/domain/milestone.ts';
import { milestonesWithJobs } from '../../src/domain/milestoneJobs.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { horizonMs, milestoneJob, scheduleMilestones } from '../../src/queues/milestones.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import type { JobPorts } from '../ports.ts';
import { policyFingerprint } from '../../src/domain/replan.ts';
import { type ReplanCounts, type ReplanPorts, replanBatch } from './replanPolicy.ts';

export interface ReconcileResult extends ReplanCounts {
  /** People read. */
  scanned: number;
  /** Jobs the horizon pass added for milestones that came within the horizon. */
  horizonAdded: number;
  /**
   * This process's policy is not the one in force (a scheduler started since
   * with another config): nobody was replanned.
   */
  policyOutdated: boolean;
  /** People with at least one open milestone. */
  open: number;
  /** Milestone jobs that were missing and were scheduled again. */
  rescheduled: number;
  /** Past-due jobs moved from delayed to waiting. */
  promoted: number;
  /** Past-due jobs that had failed or completed and were queued again. */
  requeued: number;
  /** People whose repair failed (logged; the next run tries again). */
  errors: number;
  durationMs: number;
}

export interface Progress {
  done: number;
  total: number;
}

export interface ReconcileOptions {
  batchSize?: number;
  onProgress?: (p: Progress) => void | Promise<void>;
}

export type ReconcilePorts = ReplanPorts & Pick<JobPorts, 'milestoneJobsExist' | 'opsRuns'>;

export async function reconcile(
  ctx: ReconcilePorts,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const started = Date.now();
  const fingerprint = policyFingerprint(ctx.policy);
  // During a rolling deploy an old process and a new one reconcile with two
  // policies: each would replan everyone back to its own, pass after pass.
  // Only the policy of the scheduler that started last replans.
  const inForce = await ctx.opsRuns.policyInForce();
  const mayReplan = inForce === null || inForce === fingerprint;
  if (!mayReplan) {
    ctx.log.warn(
      { policy: fingerprint, inForce },
      'reconcile: this process runs another policy than the last started scheduler; not replanning',
    );
  }
  const total = await ctx.people.count();
  const result: ReconcileResult = {
    scanned: 0,
    horizonAdded: 0,
    open: 0,
    policyOutdated: !mayReplan,
    replanned: 0,
    restamped: 0,
    replanDeferred: 0,
    rescheduled: 0,
    promoted: 0,
    requeued: 0,
    errors: 0,
    durationMs: 0,
  };
  result.horizonAdded = await horizonPass(ctx, options.batchSize);
  for await (const ids of ctx.people.scanIdsStable(options.batchSize ?? 500)) {
    const read = await ctx.people.getMany(ids);
    const records = mayReplan ? await replanBatch(ctx, read, result) : read;
    result.scanned += ids.length;
    await reconcileBatch(ctx, records, result);
    await options.onProgress?.({ done: result.scanned, total: Math.max(total, result.scanned) });
  }
  if (mayReplan && result.replanDeferred === 0) await ctx.opsRuns.setPolicyReconciled(fingerprint);
  result.durationMs = Date.now() - started;
  return result;
}

/**
 * Adds, in bulk, the jobs of people whose next milestone came within the
 * horizon since the last pass (it was beyond the horizon when planned): the
 * next-due index from where the last pass stopped to now + horizon. Runs at
 * the start of every reconcile and when a scheduler starts (src/app/crons.ts).
 * The horizon (48 h by default) is far longer than the reconcile period (5
 * minutes), so each job is added long before its instant and the milestone
 * runs at that exact instant. A person the pass misses (clocks apart) is the
 * full walk's: it checks everyone's wanted jobs. Returns how many jobs it added.
 */
export async function horizonPass(
  ctx: Pick<JobPorts, 'people' | 'queues' | 'settings' | 'now' | 'milestoneJobsExist'>,
  batchSize = 500,
): Promise<number> {
  const nowMs = ctx.now().getTime();
  const horizon = horizonMs(ctx.settings);
  const from = await ctx.people.horizonCovered();
  const to = nowMs + horizon;
  let added = 0;
  for (let offset = 0; from < to; offset += batchSize) {
    const ids = await ctx.people.idsDueBetween(from, to, batchSize, offset);
    if (ids.length === 0) break;
    const records = await ctx.people.getMany(ids);
    const wanted = records.flatMap((record) =>
      milestonesWithJobs(record, nowMs, horizon).map((m) => milestoneJob(record, m, nowMs)),
    );
    const exists = await ctx.milestoneJobsExist(wanted.map((j) => j.opts.jobId));
    const missing = wanted.filter((_, i) => !exists[i]);
    if (missing.length > 0) await ctx.queues.milestones.addBulk(missing);
    added += missing.length;
    if (ids.length < batchSize) break;
  }
  if (to > from) await ctx.people.setHorizonCovered(to);
  return added;
}

async function reconcileBatch(ctx: ReconcilePorts, records: PersonRecord[], result: ReconcileResult) {
  const queue = ctx.queues.milestones;
  const nowMs = ctx.now().getTime();
  const horizon = horizonMs(ctx.settings);
  const wanted = records.flatMap((record) =>
    milestonesWithJobs(record, nowMs, horizon).map((m) => ({
      record,
      milestone: m,
      jobId: milestoneJobId(record.person.id, record.planVersion, m.name),
    })),
  );
  result.open += records.filter((r) => !r.cancelled && r.milestones.some(isOpen)).length;
  if (wanted.length === 0) return;
  const exists = await ctx.milestoneJobsExist(wanted.map((w) => w.jobId));

  const missing = new Map<string, PersonRecord>();
  const dueExisting: typeof wanted = [];
  wanted.forEach((w, i) => {
    if (!exists[i]) missing.set(w.record.person.id, w.record);
    else if (Date.parse(w.milestone.dueAt) <= nowMs) dueExisting.push(w);
  });

  await Promise.all(
    [...missing.values()].map(async (record) => {
      try {
        const before = wanted.filter((w, i) => w.record === record && !exists[i]).length;
        await scheduleMilestones(queue, record, nowMs, horizon);
        result.rescheduled += before;
        ctx.log.warn(
          { personId: record.person.id, planVersion: record.planVersion, jobs: before },
          'reconcile: milestone jobs were missing; scheduled again',
        );
      } catch (err) {
        result.errors++;
        ctx.log.error({ personId: record.person.id, err: (err as Error).message }, 'reconcile failed');
      }
    }),
  );

  await Promise.all(
    dueExisting.map(async (w) => {
      try {
        const state = await queue.getJobState(w.jobId);
        if (state === 'delayed') {
          const job = await queue.getJob(w.jobId);
          // A job in backoff after a failed attempt keeps its own retry schedule.
          if (job && job.attemptsMade === 0) {
            await job.promote();
            result.promoted++;
            ctx.log.warn(
              { personId: w.record.person.id, milestone: w.milestone.name, dueAt: w.milestone.dueAt },
              'reconcile: past-due milestone was still delayed; running it now',
            );
          }
        } else if (state === 'failed' || state === 'completed') {
          await queue.remove(w.jobId);
          await scheduleMilestones(queue, w.record, nowMs, horizon);
          result.requeued++;
          ctx.log.warn(
            { personId: w.record.person.id, milestone: w.milestone.name, state },
            'reconcile: open milestone had a finished job; queued again',
          );
        }
      } catch (err) {
        result.errors++;
        ctx.log.error(
          { personId: w.record.person.id, milestone: w.milestone.name, err: (err as Error).message },
          'reconcile failed',
        );
      }
    }),
  );
}
