/**
 * Where an action lives, with more than one partition (docs/cluster.md
 * "Actions by id"): one global hash, action id → its home person (the
 * initiator, or the person a reinstatement is for; domain/reinstatement.ts
 * `auditPersonOf`). The action is in that person's partition, so a call by
 * action id is one HGET and then the partition's own script, not one read per
 * partition; and an action id is claimed once for all partitions, so the same
 * id registered by two initiators in two partitions is a conflict, as it is on
 * one Redis.
 *
 * Why global, not sharded by the action id's hash: its values name a person,
 * not a partition, so `partitions move` leaves it as it is, whatever the new
 * count; a directory in the slot of hash(actionId) would have to be rebuilt by
 * every move (its bucket changes with the count). It costs one field per
 * action (≈ id + person id + 20 B), dropped with the action by retention, and
 * one write per registration on the global slot, as intake's one key per HR
 * event does.
 *
 * Order: the claim is written before the action (registration), so a crash
 * between the two leaves a claim without an action, never an action nobody
 * can find; the claimer's retry (same body, same home) goes on. Actions
 * written before this index existed are found by asking every partition and
 * then indexed (`repair`), and a start with partitions fills the index in once
 * (`backfill`, marked complete).
 */
import { ACTION_STATES } from '../domain/action.ts';
import { auditPersonOf } from '../domain/reinstatement.ts';
import type { Keys } from './keys.ts';
import { Script } from './lua/script.ts';
import type { RedisClient } from './redisClient.ts';

/** HSETNX, answering the home the id has now (the caller's when it was free). KEYS: index. ARGV: id, home. */
const claimScript = new Script(
  'claimActionHome',
  `local home = redis.call('HGET', KEYS[1], ARGV[1])
if home then return home end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]`,
);

/** HDEL of each id whose home is still the one given. KEYS: index. ARGV: id, home, id, home, … */
const forgetScript = new Script(
  'forgetActionHomes',
  `local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    n = n + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return n`,
);

/** An action's home person as the index stores it. */
export interface ActionHome {
  actionId: string;
  home: string;
}

export class ActionIndex {
  constructor(
    private readonly redis: RedisClient,
    /** The global keys (`{<prefix>}`): the index is one key for every partition. */
    private readonly keys: Keys,
  ) {}

  /**
   * Claims `actionId` for `home` before the action is written; answers the
   * home it has: `home` when it was free or already theirs, another person's
   * when the id is taken (the caller refuses with `conflict`).
   */
  async claim(actionId: string, home: string): Promise<string> {
    return String(await claimScript.run(this.redis, [this.keys.actionHome], [actionId, home]));
  }

  /** The home person of `actionId`, if indexed. */
  async homeOf(actionId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.actionHome, actionId)) ?? undefined;
  }

  /** Indexes an action found without the index (it keeps a home already there). */
  async repair(actionId: string, home: string): Promise<void> {
    await this.redis.hsetnx(this.keys.actionHome, actionId, home);
  }

  /** Drops deleted actions (retention); an id claimed again by someone else since is kept. */
  async forget(homes: readonly ActionHome[]): Promise<number> {
    if (homes.length === 0) return 0;
    const args = homes.flatMap((h) => [h.actionId, h.home]);
    return Number(await forgetScript.run(this.redis, [this.keys.actionHome], args));
  }

  /** Whether every action was indexed once (`backfill`); registrations keep it so after. */
  async complete(): Promise<boolean> {
    return (await this.redis.exists(this.keys.actionHomeComplete)) === 1;
  }

  /**
   * Indexes every action of the partitions `partitionKeys` (HSETNX: a claim
   * made meanwhile stays), then marks the index complete. Returns how many
   * actions it read.
   */
  async backfill(partitionKeys: readonly Keys[]): Promise<number> {
    let seen = 0;
    for (const k of partitionKeys) {
      for (const state of ACTION_STATES) {
        let cursor = '0';
        do {
          const [next, flat] = await this.redis.zscan(k.actionsByState(state), cursor, 'COUNT', 500);
          cursor = next;
          const ids = flat.filter((_, i) => i % 2 === 0);
          if (ids.length === 0) continue;
          const read = this.redis.pipeline();
          for (const id of ids) read.hmget(k.action(id), 'initiatorId', 'kind', 'target');
          const rows = (await read.exec()) ?? [];
          const write = this.redis.pipeline();
          ids.forEach((actionId, i) => {
            const [initiatorId, kind, target] = (rows[i]?.[1] ?? []) as (string | null)[];
            if (!initiatorId) return;
            write.hsetnx(
              this.keys.actionHome,
              actionId,
              auditPersonOf({ initiatorId, kind: kind ?? '', target: target ?? '' }),
            );
            seen++;
          });
          await write.exec();
        } while (cursor !== '0');
      }
    }
    await this.redis.set(this.keys.actionHomeComplete, new Date().toISOString());
    return seen;
  }

  /** Removes the index (a move to one partition, where nothing keeps it). */
  async drop(): Promise<void> {
    await this.redis.del(this.keys.actionHome, this.keys.actionHomeComplete);
  }
}
