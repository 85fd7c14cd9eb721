/**
 * `GET /v1/audit` without a person or action filter: every audit chain (the
 * global one and each partition's) read as one list, merged by time, in pages
 * a client can walk without losing or repeating an entry.
 *
 * Seqs are per chain, so with partitions `after=<seq>` cannot say where a page
 * ended. The cursor is the last seq taken from each chain (`m.<global>.<p0>…`),
 * handed back in the `lastday-next-after` header: entries appended to any
 * chain after a page was read have a higher seq there and come on a later
 * page, even when their `at` is earlier than entries already read. Within a
 * page entries are in `at` order, each chain's in its seq order (ties: the
 * global chain first, then by partition). Chains a move retired are not
 * listed: their entries were copied into the new partitions' chains.
 */
import type { AuditEntry, AuditStore } from '../store/audit.ts';
import type { Context } from './context.ts';

export interface AuditPage {
  entries: AuditEntry[];
  /** What to pass as `after` for the next page (the same cursor when nothing came). */
  next: string;
}

/** A cursor the chains cannot have produced. */
export class AuditCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditCursorError';
  }
}

const CURSOR_TAG = 'm';

/** The chains in cursor order: the global one, then each partition's (one chain with one partition). */
function chains(ctx: Context): AuditStore[] {
  const shards = [ctx, ...ctx.partitions.all().map((p) => ctx.shard(p))];
  return shards.filter((c, i) => shards.findIndex((o) => o.prefix === c.prefix) === i).map((c) => c.audit);
}

/** Per-chain positions from `after`: absent or `0` is the start of every chain. */
export function parseCursor(after: string | undefined, chainCount: number): number[] {
  // One chain: a seq, read as before partitions (anything else is the start).
  if (chainCount === 1) return [Number(after ?? 0) || 0];
  if (after === undefined || after === '' || after === '0') return new Array<number>(chainCount).fill(0);
  const parts = after.split('.');
  const seqs = parts.slice(1).map((s) => (/^\d{1,15}$/.test(s) ? Number(s) : Number.NaN));
  if (parts[0] !== CURSOR_TAG || seqs.length !== chainCount || seqs.some(Number.isNaN)) {
    throw new AuditCursorError(
      `after: expected the cursor of the previous page's lastday-next-after header (${chainCount} audit chains: seqs are per chain)`,
    );
  }
  return seqs;
}

function formatCursor(seqs: readonly number[]): string {
  return seqs.length === 1 ? String(seqs[0]) : [CURSOR_TAG, ...seqs].join('.');
}

/** Up to `limit` entries of every chain after `after`, merged by time. */
export async function listAllChains(
  ctx: Context,
  after: string | undefined,
  limit: number,
): Promise<AuditPage> {
  const all = chains(ctx);
  const from = parseCursor(after, all.length);
  const bounded = Math.min(Math.max(limit, 1), 5000);
  // Each chain's next `bounded` entries: whatever the merge takes, none of a
  // chain's unread entries can come before the last one read of it.
  const lists = await Promise.all(
    all.map((audit, i) => audit.list({ afterSeq: from[i] ?? 0, limit: bounded })),
  );
  const next = [...from];
  const heads = lists.map(() => 0);
  const entries: AuditEntry[] = [];
  while (entries.length < bounded) {
    let best = -1;
    let bestAt = Number.POSITIVE_INFINITY;
    lists.forEach((list, i) => {
      const entry = list[heads[i] ?? 0];
      const at = entry ? Date.parse(entry.at) : Number.NaN;
      if (entry && (best < 0 || at < bestAt)) {
        best = i;
        bestAt = at;
      }
    });
    if (best < 0) break;
    const entry = lists[best]![heads[best]!]!;
    heads[best] = (heads[best] ?? 0) + 1;
    next[best] = entry.seq;
    entries.push(entry);
  }
  return { entries, next: formatCursor(next) };
}

/**
 * The last `perChain` entries of every chain, newest first (by `at`; each
 * chain's in its seq order). For pages that show what happened lately, such
 * as the console's alerts: with partitions, an alert recorded with its
 * person's state change (a milestone marked `failed`) is in that person's
 * partition chain, the others in the global one.
 */
export async function latestOfAllChains(ctx: Context, perChain: number): Promise<AuditEntry[]> {
  const lists = await Promise.all(
    chains(ctx).map(async (audit) => {
      const last = Number((await audit.head()).seq ?? 0) || 0;
      return audit.list({ afterSeq: Math.max(0, last - perChain), limit: perChain });
    }),
  );
  return lists
    .flatMap((list, chain) => list.map((entry) => ({ entry, chain })))
    .sort(
      (a, b) =>
        Date.parse(b.entry.at) - Date.parse(a.entry.at) || a.chain - b.chain || b.entry.seq - a.entry.seq,
    )
    .map(({ entry }) => entry);
}
