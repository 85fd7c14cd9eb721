/**
 * Overdue check (the `overdue` cron, `lastday run overdue`): a milestone still
 * not done `overdueAfterMinutes` after lastday could first act on it means
 * lastday is late. That moment is its `dueAt`, or later when a late HR event
 * planned it after its instant (`actionableAt`): a burst of late events puts
 * many past-due milestones on the queue at once, and they are not overdue
 * while they wait their turn within the allowance. Every run that finds some logs one error line with the count
 * and the oldest; the first time a given milestone of a given plan is seen
 * overdue it is also alerted on (error log, audit chain, optional alert
 * webhook) — once a day at most, not every minute.
 *
 * The count is stored in Redis so /metrics on any API process reports it, not
 * only the scheduler process that ran the check.
 */
import { actionableAtMs, isOpen, type MilestoneName } from '../../src/domain/milestone.ts';
import type { OverdueSnapshot } from '../../src/store/opsRuns.ts';
import type { JobPorts } from '../ports.ts';
import type { Progress } from './reconcile.ts';

export interface OverdueMilestone {
  personId: string;
  milestone: MilestoneName;
  dueAt: string;
  /** When lastday could first act on it, when later than `dueAt` (planned late). */
  actionableAt?: string;
  /** Minutes since it became actionable. */
  overdueMinutes: number;
  state: string;
  lastError?: string;
}

export interface OverdueResult {
  at: string;
  count: number;
  byMilestone: Partial<Record<MilestoneName, number>>;
  /** The first 1000, oldest first. */
  overdue: OverdueMilestone[];
  /** Alerts raised in this run (first sighting of each). */
  alerted: number;
  durationMs: number;
}

const LIST_MAX = 1000;
/** An overdue milestone is alerted again if it is still overdue this long after. */
const REALERT_S = 24 * 3600;

export type OverduePorts = Pick<JobPorts, 'people' | 'opsRuns' | 'alerts' | 'log' | 'now'>;

export async function checkOverdue(
  ctx: OverduePorts,
  overdueAfterMinutes: number,
  options: { onProgress?: (p: Progress) => void | Promise<void> } = {},
): Promise<OverdueResult> {
  const started = Date.now();
  const now = ctx.now();
  const limitMs = now.getTime() - overdueAfterMinutes * 60_000;
  const total = await ctx.people.count();
  const found: OverdueMilestone[] = [];
  const byMilestone: Partial<Record<MilestoneName, number>> = {};
  let count = 0;
  let alerted = 0;
  let done = 0;
  for await (const ids of ctx.people.scanIds(500)) {
    for (const record of await ctx.people.getMany(ids)) {
      if (record.cancelled) continue;
      for (const m of record.milestones) {
        const actionableMs = actionableAtMs(m);
        if (!isOpen(m) || actionableMs > limitMs) continue;
        count++;
        byMilestone[m.name] = (byMilestone[m.name] ?? 0) + 1;
        const item: OverdueMilestone = {
          personId: record.person.id,
          milestone: m.name,
          dueAt: m.dueAt,
          ...(m.actionableAt ? { actionableAt: m.actionableAt } : {}),
          overdueMinutes: Math.floor((now.getTime() - actionableMs) / 60_000),
          state: m.state,
          ...(m.lastError ? { lastError: m.lastError } : {}),
        };
        if (found.length < LIST_MAX) found.push(item);
        const first = await ctx.opsRuns.claimOverdueAlert(
          record.person.id,
          record.planVersion,
          m.name,
          now.toISOString(),
          REALERT_S,
        );
        if (first) {
          alerted++;
          await ctx.alerts.raise({
            kind: 'milestone_overdue',
            message: `${m.name} for ${record.person.id} was due ${m.dueAt}${
              m.actionableAt ? ` (planned late, at ${m.actionableAt})` : ''
            } and is not done (${item.overdueMinutes} min late)`,
            personId: record.person.id,
            details: {
              milestone: m.name,
              dueAt: m.dueAt,
              ...(m.actionableAt ? { actionableAt: m.actionableAt } : {}),
              state: m.state,
              lastError: m.lastError,
            },
          });
        }
      }
    }
    done += ids.length;
    await options.onProgress?.({ done, total: Math.max(total, done) });
  }
  const since = (o: OverdueMilestone) => Date.parse(o.actionableAt ?? o.dueAt);
  found.sort((a, b) => since(a) - since(b));
  // One error line per run (each first sighting is also alerted, itself logged).
  if (count > 0) ctx.log.error({ count, byMilestone, oldest: found.slice(0, 10) }, 'milestones overdue');
  const result: OverdueResult = {
    at: now.toISOString(),
    count,
    byMilestone,
    overdue: found,
    alerted,
    durationMs: Date.now() - started,
  };
  const snapshot: OverdueSnapshot = { at: result.at, count, byMilestone };
  await ctx.opsRuns.saveOverdue(snapshot);
  return result;
}
