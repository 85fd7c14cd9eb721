/**
 * What the cron watchdog and /metrics know about the ops tasks: the last
 * completed run of each (written by the `ops` queue's processor), the
 * once-per-episode mark of a late-cron alert, shared by every scheduler
 * process so two of them raise one alert, not two, and the overdue check's
 * marks and last count.
 */
import type { RedisClient } from './redisClient.ts';
import type { Keys } from './keys.ts';

export interface OpsRun {
  /** ISO instants by the context's clock. */
  startedAt: string;
  finishedAt: string;
  jobId?: string | undefined;
  result: Record<string, unknown>;
}

/** What the last overdue run found: its instant, the count, and the count per milestone. */
export interface OverdueSnapshot {
  at: string;
  count: number;
  byMilestone: Record<string, number>;
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

  /**
   * Claims the alert of an overdue milestone of one plan version, for
   * `ttlS` seconds (it is alerted again after that if still overdue). True for
   * the first caller only.
   */
  async claimOverdueAlert(
    personId: string,
    planVersion: number,
    milestone: string,
    at: string,
    ttlS: number,
  ): Promise<boolean> {
    const key = this.keys.overdueAlerted(personId, planVersion, milestone);
    return (await this.redis.set(key, at, 'EX', ttlS, 'NX')) === 'OK';
  }

  /** The policy fingerprint of the scheduler that started last: only it replans (reconcile). */
  async policyInForce(): Promise<string | null> {
    return this.redis.get(this.keys.policyInForce);
  }

  async setPolicyInForce(fingerprint: string): Promise<void> {
    await this.redis.set(this.keys.policyInForce, fingerprint);
  }

  /** The policy fingerprint every person was last replanned under (a complete reconcile pass). */
  async policyReconciled(): Promise<string | null> {
    return this.redis.get(this.keys.policyReconciled);
  }

  async setPolicyReconciled(fingerprint: string): Promise<void> {
    await this.redis.set(this.keys.policyReconciled, fingerprint);
  }

  /** Stores the last overdue count, for /metrics on any API process. */
  async saveOverdue(snapshot: OverdueSnapshot): Promise<void> {
    await this.redis.set(this.keys.overdueSnapshot, JSON.stringify(snapshot));
  }

  /** The last stored overdue count, or undefined before the first run. */
  async lastOverdue(): Promise<OverdueSnapshot | undefined> {
    const raw = await this.redis.get(this.keys.overdueSnapshot);
    return raw ? (JSON.parse(raw) as OverdueSnapshot) : undefined;
  }
}
