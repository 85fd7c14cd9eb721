/**
 * Driving a test runtime's clock (its `now` option) instead of waiting for it.
 * A milestone's instant is in the runtime's time; BullMQ's delayed jobs are in
 * real time: once the test moves the clock past an instant, `runDue` hands the
 * workers the delayed jobs that are now due, which the milestone processor runs
 * as on time (it decides by the injected clock; Redis TIME is asked only when
 * none is injected). Retries and backoff still run in real time.
 */
import type { Runtime } from '../../src/app/runtime.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import { eventually } from './lastday.ts';

/** Real time plus an offset the test moves forward. */
export class TestClock {
  private offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);

  /** Moves the clock (never back) so that it reads at least `at`. */
  reach(at: Date | string | { toMillis(): number }): void {
    const ms = typeof at === 'string' ? Date.parse(at) : at instanceof Date ? at.getTime() : at.toMillis();
    this.offsetMs = Math.max(this.offsetMs, ms - Date.now());
  }

  /** Moves the clock by `ms`, either way. */
  shift(ms: number): void {
    this.offsetMs += ms;
  }

  /** Back to real time, for the next test. */
  reset(): void {
    this.offsetMs = 0;
  }
}

/** Hands the workers `personId`'s delayed milestone jobs whose instant `rt`'s clock has reached. */
export async function runDue(rt: Runtime, personId: string): Promise<void> {
  const record = await rt.ctx.people.get(personId);
  if (!record) throw new Error(`runDue: no record for ${personId}`);
  const queue = rt.ctx.shardOf(personId).queues.milestones;
  const nowMs = rt.ctx.now().getTime();
  for (const m of record.milestones) {
    if (m.state !== 'scheduled' || Date.parse(m.dueAt) > nowMs) continue;
    const job = await queue.getJob(milestoneJobId(personId, record.planVersion, m.name));
    // A job added after the clock moved is delayed by 0 already; one that left the
    // delayed set meanwhile refuses promote(), which is fine.
    // A job waiting out the backoff of a failed attempt keeps waiting in real time.
    if (job && job.attemptsMade === 0 && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }
}

/**
 * Runs `personId`'s plan to its end: the clock moves to the first open
 * milestone's instant, its job runs, and so on until every milestone is done
 * (the bound as in `eventually`). Milestones come due one after another, as in
 * real time when each is done before the next instant.
 */
export async function runPlan(rt: Runtime, clock: TestClock, personId: string, timeoutMs = 20_000) {
  await eventually(async () => {
    const record = await rt.ctx.people.get(personId);
    if (!record) return false;
    const open = record.milestones.filter((m) => m.state === 'scheduled');
    if (open.length === 0) return record.milestones.every((m) => m.state === 'done');
    clock.reach(new Date(Math.min(...open.map((m) => Date.parse(m.dueAt)))));
    await runDue(rt, personId);
    return false;
  }, timeoutMs);
}
