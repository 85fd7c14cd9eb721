/**
 * Retention, the Redis side: deleting executed and cancelled actions and
 * rejected HR events older than a cutoff, a bounded batch per call, so a
 * large backlog never blocks Redis for long. What goes is chosen by when the
 * record reached its final state (the action's state index score) or was
 * rejected (`at`); the audit chain keeps every entry about them.
 */
import type { RedisClient } from './redisClient.ts';
import type { ActionState } from '../domain/action.ts';
import type { Keys } from './keys.ts';
import { Script } from './lua/script.ts';
import { auditPersonOf } from '../domain/reinstatement.ts';
import type { ActionIndex } from './actionIndex.ts';

/**
 * Deletes the listed actions that are still in the state and entered it
 * before the cutoff: the hash, its callback claim, and its entries in the
 * state and initiator indexes. An index entry whose action hash is gone is
 * dropped too (nothing else would ever remove it). Everything else is left.
 * KEYS: stateIndex, then per action: action, claim, byInitiator (the state
 * index stands in when the initiator is unknown). ARGV: state, cutoffMs, ids…
 * Returns {deleted, orphans, {deleted ids}}.
 */
const pruneActionsScript = new Script(
  'pruneActions',
  `local deleted, orphans, ids = 0, 0, {}
local cutoff = tonumber(ARGV[2])
for i = 3, #ARGV do
  local id = ARGV[i]
  local base = 1 + (i - 3) * 3
  local ak, ck, ik = KEYS[base + 1], KEYS[base + 2], KEYS[base + 3]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) < cutoff then
    local state = redis.call('HGET', ak, 'state')
    if not state then
      redis.call('ZREM', KEYS[1], id)
      orphans = orphans + 1
    elseif state == ARGV[1] then
      redis.call('DEL', ak, ck)
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZREM', ik, id)
      deleted = deleted + 1
      ids[#ids + 1] = id
    end
  end
end
return {deleted, orphans, ids}`,
);

export interface PruneBatch {
  deleted: number;
  /** Index entries whose action was already gone. */
  orphans: number;
  /** Candidates left alone (moved on meanwhile); the next batch starts after them. */
  skipped: number;
  /** Whether older candidates may remain. */
  more: boolean;
}

export class RetentionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    /** With partitions: deleted actions leave the action index too. */
    private readonly actionIndex?: ActionIndex,
  ) {}

  /**
   * One batch of actions in `state` since before `cutoffMs`, oldest first,
   * from `offset` (candidates an earlier batch had to leave alone).
   */
  async pruneActions(state: ActionState, cutoffMs: number, limit: number, offset = 0): Promise<PruneBatch> {
    const index = this.keys.actionsByState(state);
    const ids = await this.redis.zrangebyscore(index, '-inf', `(${cutoffMs}`, 'LIMIT', offset, limit);
    if (ids.length === 0) return { deleted: 0, orphans: 0, skipped: 0, more: false };
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.keys.action(id), 'initiatorId', 'kind', 'target');
    const rows = ((await pipeline.exec()) ?? []).map(([, v]) => (v ?? []) as (string | null)[]);
    const initiators = rows.map(([initiatorId]) => initiatorId ?? undefined);
    const keys = [index];
    ids.forEach((id, i) => {
      const initiator = initiators[i];
      keys.push(
        this.keys.action(id),
        this.keys.actionClaim(id),
        initiator !== undefined ? this.keys.actionsByInitiator(initiator) : index,
      );
    });
    const [deleted = 0, orphans = 0, gone = []] = (await pruneActionsScript.run(this.redis, keys, [
      state,
      cutoffMs,
      ...ids,
    ])) as [number, number, string[]];
    if (this.actionIndex && gone.length > 0) {
      const homeOf = new Map(
        ids.map((id, i) => {
          const [initiatorId, kind, target] = rows[i] ?? [];
          return [
            id,
            auditPersonOf({ initiatorId: initiatorId ?? '', kind: kind ?? '', target: target ?? '' }),
          ];
        }),
      );
      // After the delete: a crash between the two leaves a claim, which only refuses the id's reuse.
      await this.actionIndex.forget(gone.map((actionId) => ({ actionId, home: homeOf.get(actionId) ?? '' })));
    }
    return { deleted, orphans, skipped: ids.length - deleted - orphans, more: ids.length === limit };
  }

  /**
   * One batch of rejected events rejected before `cutoffMs`, oldest first. The
   * list is in arrival order, so the walk stops at the first younger entry.
   */
  async pruneRejected(cutoffMs: number, limit: number): Promise<{ deleted: number; more: boolean }> {
    const rows = await this.redis.xrange(this.keys.rejected, '-', '+', 'COUNT', limit);
    const old: string[] = [];
    for (const [id, fields] of rows) {
      if (rejectedAtMs(id, fields) >= cutoffMs) break;
      old.push(id);
    }
    if (old.length > 0) await this.redis.xdel(this.keys.rejected, ...old);
    return { deleted: old.length, more: old.length === limit };
  }
}

/** When an entry was rejected: its `at`, else (unreadable) the stream id's time. */
function rejectedAtMs(id: string, fields: string[]): number {
  try {
    const at = Date.parse((JSON.parse(fields[1] ?? '{}') as { at?: string }).at ?? '');
    if (!Number.isNaN(at)) return at;
  } catch {
    // fall through to the id
  }
  return Number(id.split('-')[0]);
}
