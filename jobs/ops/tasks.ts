/**
 * The maintenance tasks behind the crons, by name, and the processor of the
 * `ops` queue that the job schedulers feed. `lastday run NAME` calls the same
 * `runOpsTask` in its own process, so an external cron does exactly the work
 * the built-in scheduler would.
 */
import type { Job } from 'bullmq';
import type { SyncResult } from '../../src/queues/crons.ts';
import type { JobPorts } from '../ports.ts';
import { publishAuditHead } from './auditHead.ts';
import { expireHolds } from './holdExpiry.ts';
import { checkOverdue } from './overdue.ts';
import { type Progress, reconcile } from './reconcile.ts';
import { pruneExpired } from './retention.ts';
import { rosterSync } from './rosterSync.ts';

export const OPS_TASKS = ['reconcile', 'roster-sync', 'overdue', 'hold-expiry', 'retention'] as const;
export type OpsTaskName = (typeof OPS_TASKS)[number];

export function isOpsTask(name: string): name is OpsTaskName {
  return (OPS_TASKS as readonly string[]).includes(name);
}

export interface OpsRunOptions {
  onProgress?: (p: Progress & { step?: string }) => void | Promise<void>;
  env?: NodeJS.ProcessEnv;
}

/** What the ops tasks use between them. */
export type OpsPorts = Pick<
  JobPorts,
  | 'settings'
  | 'policy'
  | 'people'
  | 'events'
  | 'actions'
  | 'retention'
  | 'opsRuns'
  | 'audit'
  | 'effects'
  | 'connectors'
  | 'lock'
  | 'guard'
  | 'queues'
  | 'milestoneJobsExist'
  | 'metrics'
  | 'alerts'
  | 'log'
  | 'now'
> & {
  /**
   * The ports of every partition (docs/cluster.md "Partitions"): reconcile,
   * overdue, hold expiry and retention run once per partition, in parallel,
   * and their results are summed. Absent: one partition, these ports.
   */
  partitionPorts?: readonly OpsPorts[];
};

/** At most this many partitions worked on at once by one task. */
const PARTITION_CONCURRENCY = 4;

/** Runs `fn` on every partition's ports and sums the results (numbers added, lists joined). */
async function eachPartition<R extends object>(
  ctx: OpsPorts,
  fn: (ports: OpsPorts) => Promise<R>,
): Promise<R> {
  const all = ctx.partitionPorts ?? [ctx];
  if (all.length === 1) return fn(all[0] ?? ctx);
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const ports = all[next++] as OpsPorts;
      results.push(await fn(ports));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARTITION_CONCURRENCY, all.length) }, worker));
  return { ...(sumResults(results) as R), partitions: all.length };
}

function withGlobal(ctx: OpsPorts): OpsPorts {
  const all = ctx.partitionPorts;
  return all && all.length > 1 ? { ...ctx, partitionPorts: [ctx, ...all] } : ctx;
}

function sumResults(results: readonly object[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of results) {
    for (const [k, v] of Object.entries(r)) {
      const cur = out[k];
      if (typeof v === 'number' && (typeof cur === 'number' || cur === undefined)) out[k] = (cur ?? 0) + v;
      else if (Array.isArray(v)) out[k] = [...((cur as unknown[] | undefined) ?? []), ...v];
      else if (typeof v === 'boolean') out[k] = Boolean(cur) || v;
      else if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = sumResults([cur ?? {}, v]);
      else if (cur === undefined) out[k] = v;
    }
  }
  return out;
}

export async function runOpsTask(
  ctx: OpsPorts,
  name: OpsTaskName,
  options: OpsRunOptions = {},
): Promise<Record<string, unknown>> {
  const { crons } = ctx.settings.config;
  const progress = (step: string) => (p: Progress) => options.onProgress?.({ ...p, step });
  const env = options.env ?? process.env;
  switch (name) {
    case 'reconcile': {
      // A roster that cannot be read must not stop the repair of the plans lastday has.
      let roster: Record<string, unknown> | undefined;
      if (crons.reconcile.withRoster && crons.rosterSync.source) {
        try {
          roster = { ...(await rosterSync(ctx, crons.rosterSync, { onProgress: progress('roster'), env })) };
        } catch (err) {
          ctx.log.error({ err: (err as Error).message }, 'reconcile: roster sync failed');
          roster = { error: (err as Error).message };
        }
      }
      const result = await eachPartition(ctx, (p) => reconcile(p, { onProgress: progress('people') }));
      const auditHead = await publishAuditHead(ctx);
      // Each partition's chain is sealed, logged and checked for a rollback too.
      const partitionHeads =
        ctx.partitionPorts && ctx.partitionPorts.length > 1
          ? { partitionHeads: await Promise.all(ctx.partitionPorts.map((p) => publishAuditHead(p))) }
          : {};
      return {
        ...result,
        auditHead,
        ...partitionHeads,
        errors: result.errors + (roster?.error ? 1 : 0),
        ...(roster ? { roster } : {}),
      };
    }
    case 'roster-sync':
      return { ...(await rosterSync(ctx, crons.rosterSync, { onProgress: progress('roster'), env })) };
    case 'overdue': {
      const result = await eachPartition(ctx, (p) =>
        checkOverdue(p, crons.overdue.overdueAfterMinutes, { onProgress: progress('people') }),
      );
      // Each partition saved its own snapshot; the one /metrics reads is their sum.
      if (ctx.partitionPorts && ctx.partitionPorts.length > 1)
        await ctx.opsRuns.saveOverdue({
          at: result.at,
          count: result.count,
          byMilestone: result.byMilestone,
        });
      return { ...result };
    }
    case 'hold-expiry':
      return { ...(await eachPartition(ctx, (p) => expireHolds(p))) };
    case 'retention':
      return {
        // The global keys (rejected events, the global audit chain) are pruned too.
        ...(await eachPartition(withGlobal(ctx), (p) =>
          pruneExpired(p, ctx.settings.config.retention, { onProgress: progress('prune') }),
        )),
      };
  }
}

/**
 * Processor of the `ops` queue: job name = task name. Records each completed
 * run (the cron watchdog and /metrics measure lateness from it) and, after a
 * reconcile pass, upserts the cron schedulers again: a scheduler whose pending
 * job was lost would otherwise never run again (see src/queues/crons.ts).
 */
export function createOpsProcessor(
  ctx: OpsPorts & {
    /** Upserts the cron job schedulers from the config (src/queues/crons.ts). */
    syncCrons: () => Promise<SyncResult>;
  },
) {
  return async (job: Job): Promise<Record<string, unknown>> => {
    if (!isOpsTask(job.name)) throw new Error(`unknown ops task ${job.name}`);
    const started = ctx.now().toISOString();
    const result = await runOpsTask(ctx, job.name, {
      onProgress: (p) => job.updateProgress(p),
    });
    await ctx.opsRuns.record(job.name, {
      startedAt: started,
      finishedAt: ctx.now().toISOString(),
      jobId: job.id,
      result,
    });
    if (job.name === 'reconcile') await healSchedulers(ctx);
    return result;
  };
}

/** Re-creates broken cron schedulers; a failure here is logged, never the reconcile's. */
async function healSchedulers(ctx: { syncCrons: () => Promise<SyncResult>; log: JobPorts['log'] }) {
  try {
    const sync = await ctx.syncCrons();
    if (sync.upserted.length > 0)
      ctx.log.warn({ crons: sync.upserted }, 'reconcile: cron schedulers were broken; re-created');
    if (sync.failed.length > 0)
      ctx.log.error({ failed: sync.failed }, 'reconcile: cron schedulers not re-created');
  } catch (err) {
    ctx.log.error({ err: (err as Error).message }, 'reconcile: cron schedulers not checked');
  }
}
