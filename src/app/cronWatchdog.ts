/**
 * The cron watchdog: a timer in every scheduler-role process that does not
 * depend on the `ops` queue's jobs (whose loss is what it watches for). Each
 * look:
 *
 * - re-creates the job scheduler of every enabled cron whose chain is broken
 *   (no scheduler, or its pending job gone) — lost crons come back within one
 *   interval, without a restart;
 * - measures each enabled cron against its own pattern (src/domain/cronLateness.ts)
 *   and, once per lateness episode, raises a `cron_late` alert: a chain that
 *   looks whole can still not run (the queue paused, no ops worker, a task that
 *   fails every time), and that needs a person. An episode is "late after the run that started at T": every
 *   scheduler process agrees on it, and a mark in Redis makes the first one to
 *   see it the only one to alert. A cron that runs again ends the episode.
 *
 * A look that fails because Redis is away goes to the Redis-loss log, which
 * already says so; it is not logged per tick.
 */
import type { Queue } from 'bullmq';
import { type CronLateness, cronLateness, DEFAULT_MISSED_TICKS } from '../domain/cronLateness.ts';
import { type EnabledCron, enabledCrons, lostSchedules, syncJobSchedulers } from '../queues/crons.ts';
import type { OpsRun } from '../store/opsRuns.ts';
import type { Context } from './context.ts';

export interface CronWatchdogOptions {
  /** How often to look. Default 30 s; 0 = only when `check()` is called. */
  intervalMs?: number;
  /** Ticks of its pattern a cron may miss before it is late. Default 3. */
  missedTicks?: number;
}

export interface CronCheck {
  /** Crons late now. */
  late: string[];
  /** Crons that became late in this look (alerted, unless another process was first). */
  newlyLate: string[];
  /** Crons whose scheduler chain was broken and was re-created. */
  healed: string[];
}

export class CronWatchdog {
  private readonly intervalMs: number;
  private readonly missedTicks: number;
  private readonly since: Date;
  /** Crons in a lateness episode, as this process saw them. */
  private readonly late = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly queue: Queue,
    options: CronWatchdogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 30_000;
    this.missedTicks = options.missedTicks ?? DEFAULT_MISSED_TICKS;
    this.since = ctx.now();
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      // One look at a time: a slow Redis must not stack them up.
      this.running ??= this.check()
        .catch((err: Error) => this.failed(err))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async check(): Promise<CronCheck> {
    const { crons } = this.ctx.settings.config;
    const enabled = enabledCrons(crons);
    const now = this.ctx.now();
    const runs = await this.ctx.opsRuns.last(enabled.map((c) => c.task));
    const result: CronCheck = { late: [], newlyLate: [], healed: [] };
    for (const cron of enabled) {
      const run = runs.get(cron.task);
      const lateness = cronLateness(cron, startOf(run), this.since, now, this.missedTicks);
      if (lateness.late) {
        result.late.push(cron.task);
        if (!this.late.has(cron.task)) {
          await this.alertLate(cron, run, lateness);
          this.late.add(cron.task);
          result.newlyLate.push(cron.task);
        }
      } else if (this.late.delete(cron.task)) {
        this.ctx.log.info({ cron: cron.task, lastStartedAt: run?.startedAt }, 'cron back on schedule');
      }
    }
    const lost = await lostSchedules(this.queue, crons);
    if (lost.length > 0) {
      const sync = await syncJobSchedulers(this.queue, crons, this.ctx.redis);
      result.healed = lost.filter((task) => sync.upserted.includes(task));
      this.ctx.log.warn(
        { crons: lost, healed: result.healed },
        'cron watchdog: schedulers had lost their next run; re-created',
      );
      if (sync.failed.length > 0)
        this.ctx.log.error({ failed: sync.failed }, 'cron watchdog: could not re-create schedulers');
    }
    return result;
  }

  private failed(err: Error): void {
    const other = (e: Error) => this.ctx.log.warn({ err: e.message }, 'cron watchdog: check failed');
    this.ctx.connections.loss.route('cron-watchdog', other)(err);
  }

  private async alertLate(cron: EnabledCron, run: OpsRun | undefined, lateness: CronLateness) {
    const episode = run ? String(Date.parse(run.startedAt)) : 'never';
    if (!(await this.ctx.opsRuns.claimLateAlert(cron.task, episode))) return;
    const since = run
      ? `since ${run.startedAt}`
      : `since lastday started watching it at ${this.since.toISOString()}`;
    const raised = this.ctx.alerts.raise({
      kind: 'cron_late',
      message: `cron ${cron.task} has not completed a run ${since} (${this.missedTicks} ticks of "${cron.pattern}" ${cron.tz})`,
      details: {
        cron: cron.task,
        pattern: cron.pattern,
        tz: cron.tz,
        lastStartedAt: run?.startedAt ?? null,
        lastFinishedAt: run?.finishedAt ?? null,
        lateSince: lateness.deadline.toISOString(),
      },
    });
    // Not raised after all (Redis failed under it): let the next look, here or elsewhere, try again.
    await raised.catch(async (err: unknown) => {
      await this.ctx.opsRuns.releaseLateAlert(cron.task, episode).catch(() => undefined);
      throw err;
    });
  }
}

function startOf(run: OpsRun | undefined): Date | undefined {
  if (!run) return undefined;
  const at = new Date(run.startedAt);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
