/**
 * What the cron watchdog and /metrics know about the ops tasks: the last
 * completed run of each (written by the `ops` queue's processor), and the
 * once-per-episode mark of a late-cron alert, shared by every scheduler
 * process so two of them raise one alert, not two.
 */
import type { RedisClient } from '../queues/connection.ts';
import type { Keys } from './keys.ts';

export interface OpsRun {
  /** ISO instants by the context's clock. */
  startedAt: string;
  finishedAt: string;
  jobId?: string | undefined;
  result: Record<string, unknown>;
}

/** A late-cron mark outlives any sensible episode, then goes. */
const LATE_MARK_TTL_S = 30 * 24 * 3600;

export class OpsRunsStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async record(task: string, run: OpsRun): Promise<void> {
    await this.redis.set(this.keys.opsLastRun(task), JSON.stringify(run));
  }

  /** The last completed run of each task (absent: never, or its record was lost). */
  async last(tasks: readonly string[]): Promise<Map<string, OpsRun>> {
    const runs = new Map<string, OpsRun>();
    if (tasks.length === 0) return runs;
    const values = await this.redis.mget(...tasks.map((t) => this.keys.opsLastRun(t)));
    tasks.forEach((task, i) => {
      const raw = values[i];
      if (!raw) return;
      try {
        const run = JSON.parse(raw) as Partial<OpsRun>;
        if (typeof run.startedAt === 'string' && typeof run.finishedAt === 'string')
          runs.set(task, run as OpsRun);
      } catch {
        // A record that is not ours counts as no record: the cron shows as not run.
      }
    });
    return runs;
  }

  /**
   * Claims the alert of one lateness episode of `task` (`episode` names the
   * last run it is late after). True for the first caller only.
   */
  async claimLateAlert(task: string, episode: string): Promise<boolean> {
    const key = this.keys.cronLateAlerted(task, episode);
    return (await this.redis.set(key, '1', 'EX', LATE_MARK_TTL_S, 'NX')) === 'OK';
  }

  /** Gives a claimed alert back (it could not be raised). */
  async releaseLateAlert(task: string, episode: string): Promise<void> {
    await this.redis.del(this.keys.cronLateAlerted(task, episode));
  }
}
