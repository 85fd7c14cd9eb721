/**
 * When a cron counts as late. A cron is measured in its own ticks rather than
 * in seconds, so one rule fits `* * * * *` and `0 9 * * 1-5` alike (a Friday
 * run is not late on Saturday): it is late once `missedTicks` ticks of its
 * pattern have passed since its last completed run started, or since lastday
 * began watching when that is later — time lastday was not running is not the
 * cron's lateness.
 *
 * Three ticks by default: one tick late is a slow run or a busy worker; three
 * in a row is a schedule that has stopped (lost jobs, a paused queue, no ops
 * worker) or a task that fails every time.
 */
import { CronExpressionParser } from 'cron-parser';

export interface CronSchedule {
  pattern: string;
  /** IANA zone the pattern is read in. */
  tz: string;
}

export const DEFAULT_MISSED_TICKS = 3;

/** The `n`-th tick of `schedule` strictly after `after` (n ≥ 1). */
export function nthTickAfter(schedule: CronSchedule, after: Date, n: number): Date {
  const ticks = CronExpressionParser.parse(schedule.pattern, { currentDate: after, tz: schedule.tz });
  let tick = ticks.next();
  for (let i = 1; i < n; i++) tick = ticks.next();
  return new Date(tick.getTime());
}

export interface CronLateness {
  late: boolean;
  /** The instant after which the cron is late, given what is known now. */
  deadline: Date;
}

/**
 * @param lastStartedAt start of the last completed run, if any
 * @param watchingSince when this observer started (a never-run cron is measured from here)
 */
export function cronLateness(
  schedule: CronSchedule,
  lastStartedAt: Date | undefined,
  watchingSince: Date,
  now: Date,
  missedTicks = DEFAULT_MISSED_TICKS,
): CronLateness {
  const from =
    lastStartedAt && lastStartedAt.getTime() > watchingSince.getTime() ? lastStartedAt : watchingSince;
  const deadline = nthTickAfter(schedule, from, missedTicks);
  return { late: now.getTime() > deadline.getTime(), deadline };
}
