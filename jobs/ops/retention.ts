/**
 * The `retention` cron task: deletes executed and cancelled actions and
 * rejected HR events older than `retention.actionsDays` / `rejectedDays`, a
 * batch at a time (src/store/retention.ts), trims the grant snapshots kept for
 * a reinstatement once `policy.reinstateWithinDays` after the revoke has
 * passed (to grant ids: the evidence stays), and appends one audit entry per
 * run naming what it deleted — also when the run fails part way, with the
 * counts so far and the error. The audit chain itself is never pruned.
 */
import type { RetentionConfig } from '../../src/config/retention.ts';
import type { JobPorts } from '../ports.ts';
import type { Progress } from './reconcile.ts';

const DAY_MS = 86_400_000;
const TERMINAL = ['executed', 'cancelled'] as const;

export interface RetentionResult {
  /** Actions deleted, by final state. */
  actions: { executed: number; cancelled: number };
  /** State-index entries whose action was already gone (dropped too). */
  orphans: number;
  rejected: number;
  /** Reduce/revoke snapshots trimmed: people (cycles) and effect records. */
  snapshots: { people: number; records: number };
  /** The cutoffs: records older than these went. */
  actionsBefore: string;
  rejectedBefore: string;
  durationMs: number;
}

export async function pruneExpired(
  ctx: Pick<JobPorts, 'retention' | 'audit' | 'now' | 'effects'>,
  config: RetentionConfig,
  options: { onProgress?: (p: Progress & { step?: string }) => void | Promise<void> } = {},
): Promise<RetentionResult> {
  const started = Date.now();
  const store = ctx.retention;
  const nowMs = ctx.now().getTime();
  const actionsCutoff = nowMs - config.actionsDays * DAY_MS;
  const rejectedCutoff = nowMs - config.rejectedDays * DAY_MS;
  const result: RetentionResult = {
    actions: { executed: 0, cancelled: 0 },
    orphans: 0,
    rejected: 0,
    snapshots: { people: 0, records: 0 },
    actionsBefore: new Date(actionsCutoff).toISOString(),
    rejectedBefore: new Date(rejectedCutoff).toISOString(),
    durationMs: 0,
  };
  const progress = async (step: string, n: number) => options.onProgress?.({ step, done: n, total: n });
  let failure: Error | undefined;
  try {
    for (const state of TERMINAL) {
      // Candidates that moved on meanwhile are skipped; the next batch starts after them.
      for (let offset = 0; ;) {
        const batch = await store.pruneActions(state, actionsCutoff, config.batchSize, offset);
        result.actions[state] += batch.deleted;
        result.orphans += batch.orphans;
        offset += batch.skipped;
        if (!batch.more) break;
      }
      await progress(`${state} actions`, result.actions[state]);
    }
    for (;;) {
      const batch = await store.pruneRejected(rejectedCutoff, config.batchSize);
      result.rejected += batch.deleted;
      if (!batch.more) break;
    }
    await progress('rejected events', result.rejected);
    for (;;) {
      const batch = await ctx.effects.expireSnapshots(nowMs, config.batchSize, new Date(nowMs).toISOString());
      result.snapshots.people += batch.people;
      result.snapshots.records += batch.records;
      if (!batch.more) break;
    }
    await progress('reinstatement snapshots', result.snapshots.people);
  } catch (err) {
    failure = err as Error;
  }
  result.durationMs = Date.now() - started;
  await ctx.audit.append({
    at: ctx.now().toISOString(),
    type: 'retention.pruned',
    actor: 'lastday',
    details: {
      ...result,
      actionsDays: config.actionsDays,
      rejectedDays: config.rejectedDays,
      ...(failure ? { error: failure.message } : {}),
    },
  });
  if (failure) throw failure;
  return result;
}
