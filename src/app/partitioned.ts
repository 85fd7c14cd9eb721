/**
 * Reads that span every partition (docs/cluster.md "Partitions"): the audit
 * chains verified together, and the people ending in a window merged in end
 * order. With one partition each is the context's own read.
 */
import type { PersonRecord } from '../domain/person.ts';
import { AuditStore } from '../store/audit.ts';
import type { VerifyResult } from '../store/auditVerify.ts';
import { createKeys } from '../store/keys.ts';
import type { Context } from './context.ts';

/** The contexts whose stores are distinct: the global one, then each partition's. */
function distinctShards(ctx: Context): Context[] {
  return [ctx, ...ctx.partitions.all().map((p) => ctx.shard(p))].filter(
    (c, i, all) => all.findIndex((o) => o.prefix === c.prefix) === i,
  );
}

/** The audit chains of partitions a move retired (history only). */
function retiredChains(ctx: Context): { prefix: string; audit: AuditStore }[] {
  return (ctx.partitions.layout.retired ?? []).map((prefix) => ({
    prefix,
    audit: new AuditStore(ctx.redis, createKeys(prefix), { key: ctx.settings.env.LASTDAY_AUDIT_KEY }),
  }));
}

/** `global`, a partition number, or `retired:<prefix>` (a chain a move left behind). */
export type ChainName = 'global' | number | `retired:${string}`;

export interface PartitionedVerifyResult extends VerifyResult {
  /** With partitions: which chain broke first (`global` or a partition number). */
  partition?: ChainName;
  /** With partitions: every chain's own result. */
  partitions?: (VerifyResult & { partition: ChainName })[];
}

/**
 * Every audit chain (the global one and one per partition) against its own
 * stored head; `ok` only when all are. `entries` is their sum, `head` the
 * global chain's.
 */
export async function verifyAuditChains(ctx: Context): Promise<PartitionedVerifyResult> {
  const shards = distinctShards(ctx);
  const retired = retiredChains(ctx);
  if (shards.length === 1 && retired.length === 0) return ctx.audit.verify();
  const results = await Promise.all([
    ...shards.map(async (c, i) => ({
      ...(await c.audit.verify()),
      partition: i === 0 ? ('global' as const) : i - 1,
    })),
    ...retired.map(async (r) => ({ ...(await r.audit.verify()), partition: `retired:${r.prefix}` as const })),
  ]);
  const global = results[0] as (typeof results)[number];
  const broken = results.find((r) => !r.ok);
  return {
    ok: broken === undefined,
    entries: results.reduce((n, r) => n + r.entries, 0),
    head: global.head,
    ...(broken
      ? {
          partition: broken.partition,
          ...(broken.brokenAt !== undefined ? { brokenAt: broken.brokenAt } : {}),
          ...(broken.reason !== undefined ? { reason: broken.reason } : {}),
        }
      : {}),
    partitions: results,
  };
}

/** People whose `endsAt` lies in [fromMs, toMs] over every partition, in end order, at most `limit`. */
export async function peopleEndingBetween(
  ctx: Context,
  fromMs: number,
  toMs: number,
  limit: number,
): Promise<PersonRecord[]> {
  const shards = distinctShards(ctx).filter((c) => c !== ctx || ctx.partitions.count === 1);
  const parts = await Promise.all(
    shards.map(async (c) => c.people.getMany(await c.people.idsEndingBetween(fromMs, toMs, limit))),
  );
  if (parts.length === 1) return parts[0] ?? [];
  return parts
    .flat()
    .sort((a, b) => (a.endsAt ? Date.parse(a.endsAt) : 0) - (b.endsAt ? Date.parse(b.endsAt) : 0))
    .slice(0, limit);
}

/** Ids of the people ending in [fromMs, toMs] over every partition, in end order, at most `limit`. */
export async function peopleIdsEndingBetween(
  ctx: Context,
  fromMs: number,
  toMs: number,
  limit: number,
): Promise<string[]> {
  if (ctx.partitions.count === 1) return ctx.shard(0).people.idsEndingBetween(fromMs, toMs, limit);
  return (await peopleEndingBetween(ctx, fromMs, toMs, limit)).map((r) => r.person.id);
}

/**
 * The partition context holding action `actionId` (its home person's: the
 * action index, else asking every partition), or the context itself when none does.
 */
export async function shardOfAction(ctx: Context, actionId: string): Promise<Context> {
  if (ctx.partitions.count === 1) return ctx.shard(0);
  const home = await ctx.actionIndex?.homeOf(actionId);
  if (home !== undefined) return ctx.shardOf(home);
  const shards = ctx.partitions.all().map((p) => ctx.shard(p));
  const found = await Promise.all(shards.map((s) => s.actions.get(actionId)));
  return shards[found.findIndex((a) => a !== undefined)] ?? ctx;
}
