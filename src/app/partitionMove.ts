/**
 * `lastday partitions move --to N` (docs/cluster.md "Changing the partition
 * count"): moves every person whose partition changes to its new one, with
 * the workers stopped. Idempotent and resumable: the target layout is stored
 * first (`<prefix>:partitions-move`), a person counts as moved once gone from
 * the old partition's by-end index (the last step of moving them), and the
 * audit history copied into the new chain names each original entry, so a
 * second run copies only what the first did not.
 *
 * What moves with a person: the record, effects, freeze mark, reinstatement
 * request, the actions whose home they are (records, state indexes, pending
 * index; domain/reinstatement.ts `auditPersonOf`), their snapshot-retention
 * entries and overdue-alert marks, their audit history (copied into the new
 * partition's chain, each copy naming the original `{prefix, seq}`; the old
 * chain keeps the originals and is still verified: a partition prefix no
 * longer used is kept in the layout's `retired` list), and their waiting or
 * delayed jobs on the milestones and actions queues.
 *
 * Built-in directory users move too, found by their keys (SCAN per master
 * with MATCH `<old prefix>:dir:*`), not through the people index: a directory
 * user whose person lastday has no HR record for moves all the same. A user
 * counts as moved once its keys are gone from the old partition (one DEL of
 * both, after they are copied). A run for the count already stored still
 * sweeps directory users left under the global prefix (written by a build
 * where the directory was global) into their partitions.
 *
 * People lastday has no HR record for are found the same way: the homes of
 * actions still in the old partition's state indexes after the people (a
 * tool's initiator lastday does not know, a reinstatement requested by someone
 * in another partition) and directory users; their audit history and actions
 * move like a person's. The action index names home people, not partitions,
 * so it holds after the move; a move to more than one partition indexes the
 * actions written while there was one, a move to one drops it.
 */
import type { Logger } from 'pino';
import { ActionIndex } from '../store/actionIndex.ts';
import { AuditStore } from '../store/audit.ts';
import {
  ACTION_STATES,
  copyKey,
  directoryIdsUnder,
  moveAction,
  moveDirectory,
  moveJobs,
  moveOverdueMarks,
  moveSnapshots,
} from './partitionMoveSteps.ts';
import { createKeys, type Keys } from '../store/keys.ts';
import {
  layoutKey,
  type PartitionLayout,
  partitionOf,
  planPrefixes,
  readLayout,
  slotOwnerOf,
} from '../store/partitions.ts';
import type { RedisClient } from '../store/redisClient.ts';
import { auditPersonOf } from '../domain/reinstatement.ts';

/** A stored layout, plus the prefixes of partitions no longer used whose audit chains are kept. */
export type StoredLayout = PartitionLayout;

export interface MoveResult {
  from: number;
  to: number;
  /** People moved by this run (a resumed run counts only its own). */
  moved: number;
  /** People already in their partition. */
  stayed: number;
  /** Queue jobs re-created in their new partition. */
  jobs: number;
  /** Audit entries copied into new chains. */
  auditCopied: number;
  /** Built-in directory users moved to their new partition (with or without an HR record). */
  directoryUsers: number;
  /**
   * Actions whose home person has no HR record here (a tool's initiator
   * lastday does not know, or a reinstatement requested by someone in
   * another partition), moved to their home's new partition.
   */
  otherActions: number;
  /** Overdue-alert marks moved with their person (so a moved overdue milestone is not alerted again). */
  overdueMarks: number;
  /** True when the stored count already was `to` and nothing was pending. */
  already: boolean;
}

export interface MoveOptions {
  redis: RedisClient;
  /** The global prefix (`{<prefix>}` on a cluster). */
  prefix: string;
  to: number;
  auditKey?: string | undefined;
  now?: () => Date;
  log?: Logger;
  onProgress?: (done: number) => void;
}

function moveKey(prefix: string): string {
  return `${prefix}:partitions-move`;
}

export async function movePartitions(o: MoveOptions): Promise<MoveResult> {
  const { redis, prefix, to } = o;
  const now = o.now ?? (() => new Date());
  const stored: StoredLayout = (await readLayout(redis, prefix)) ?? { count: 1, prefixes: [prefix] };
  const pendingRaw = await redis.get(moveKey(prefix));
  let target: StoredLayout;
  if (pendingRaw) {
    const pending = JSON.parse(pendingRaw) as { to: StoredLayout };
    if (pending.to.count !== to) {
      throw new Error(
        `a move to ${pending.to.count} partitions is under way; finish it with "lastday partitions move --to ${pending.to.count}" first`,
      );
    }
    target = pending.to;
  } else {
    if (stored.count === to) {
      const directoryUsers =
        stored.prefixes[0] === prefix
          ? 0
          : await moveDirectory(redis, prefix, (id) => stored.prefixes[partitionOf(id, to)] as string, {
              keepExisting: true,
              log: o.log,
            });
      return {
        from: to,
        to,
        moved: 0,
        stayed: 0,
        jobs: 0,
        auditCopied: 0,
        directoryUsers,
        otherActions: 0,
        overdueMarks: 0,
        already: true,
      };
    }
    const prefixes = planPrefixes(prefix, to, slotOwnerOf(redis));
    const retired = [...(stored.retired ?? []), ...stored.prefixes].filter(
      (p, i, all) => !prefixes.includes(p) && p !== prefix && all.indexOf(p) === i,
    );
    target = { count: to, prefixes, ...(retired.length > 0 ? { retired } : {}) };
    await redis.set(moveKey(prefix), JSON.stringify({ from: stored, to: target }), 'NX');
    target = (JSON.parse((await redis.get(moveKey(prefix))) ?? '{}') as { to: StoredLayout }).to;
  }
  const result: MoveResult = {
    from: stored.count,
    to,
    moved: 0,
    stayed: 0,
    jobs: 0,
    auditCopied: 0,
    directoryUsers: 0,
    otherActions: 0,
    overdueMarks: 0,
    already: false,
  };
  const sources = [...new Set([...stored.prefixes, ...(stored.retired ?? []), prefix])];
  const auditOf = new Map<string, AuditStore>();
  const audit = (p: string) => {
    let a = auditOf.get(p);
    if (!a) {
      a = new AuditStore(redis, createKeys(p), { key: o.auditKey });
      auditOf.set(p, a);
    }
    return a;
  };
  const newPrefixOf = (personId: string) => target.prefixes[partitionOf(personId, to)] as string;
  for (const from of sources) {
    const oldKeys = createKeys(from);
    const movedActions = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await redis.zscan(oldKeys.peopleByEnd, cursor, 'COUNT', 200);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) {
        const personId = flat[i] as string;
        const score = flat[i + 1] as string;
        const dest = newPrefixOf(personId);
        if (dest === from) {
          result.stayed++;
          continue;
        }
        const copied = await movePerson(redis, personId, score, oldKeys, createKeys(dest), {
          from: audit(from),
          to: audit(dest),
          fromPrefix: from,
          movedActions,
          at: now().toISOString(),
        });
        result.auditCopied += copied;
        result.moved++;
        o.onProgress?.(result.moved);
      }
    } while (cursor !== '0');
    const rest = await moveHomesWithoutRecord(redis, from, newPrefixOf, {
      audit,
      movedActions,
      at: now().toISOString(),
    });
    result.otherActions += rest.actions;
    result.auditCopied += rest.auditCopied;
    result.overdueMarks += await moveOverdueMarks(redis, from, newPrefixOf);
    await moveSnapshots(redis, oldKeys, from, newPrefixOf);
    result.directoryUsers += await moveDirectory(redis, from, newPrefixOf);
    result.jobs += await moveJobs(redis, from, newPrefixOf, movedActions);
  }
  // The action index names home people, not partitions: it holds for any
  // count. With one partition nothing keeps it, so it goes; with more, the
  // actions written while there was one are indexed now.
  const index = new ActionIndex(redis, createKeys(prefix));
  if (to === 1) await index.drop();
  else if (!(await index.complete())) await index.backfill(target.prefixes.map((p) => createKeys(p)));
  await redis.set(layoutKey(prefix), JSON.stringify(target));
  await redis.del(moveKey(prefix));
  o.log?.info({ ...result }, 'partitions moved');
  return result;
}

async function movePerson(
  redis: RedisClient,
  personId: string,
  score: string,
  from: Keys,
  to: Keys,
  o: {
    from: AuditStore;
    to: AuditStore;
    fromPrefix: string;
    movedActions: Map<string, string>;
    at: string;
  },
): Promise<number> {
  // The audit history first: each copy names its original, so a rerun skips those already copied.
  const copied = await copyHistory(personId, { ...o, toPrefix: to.prefix });
  for (const key of ['person', 'effects', 'freezeMark', 'reinstateRequest'] as const) {
    await copyKey(redis, from[key](personId), to[key](personId));
  }
  // The actions whose home they are: a reinstatement they requested for
  // someone else follows that person (moveHomesWithoutRecord).
  for (const actionId of await redis.zrange(from.actionsByInitiator(personId), 0, -1)) {
    const [kind, target] = await redis.hmget(from.action(actionId), 'kind', 'target');
    if (auditPersonOf({ initiatorId: personId, kind: kind ?? '', target: target ?? '' }) !== personId)
      continue;
    if (await moveAction(redis, actionId, from, to)) o.movedActions.set(actionId, to.prefix);
  }
  // The horizon pass finds the person's next milestone through this index.
  const nextDue = await redis.zscore(from.peopleByNextDue, personId);
  if (nextDue !== null) await redis.zadd(to.peopleByNextDue, nextDue, personId);
  await redis.zadd(to.peopleByEnd, score, personId);
  // Last: gone from the old index means moved (a rerun starts from the index).
  for (const key of [
    'person',
    'effects',
    'freezeMark',
    'reinstateRequest',
    'personLock',
    'auditByPerson',
  ] as const) {
    await redis.del(from[key](personId));
  }
  await redis.zrem(from.peopleByNextDue, personId);
  await redis.zrem(from.peopleByEnd, personId);
  return copied;
}

/**
 * Copies a person's audit history from the old chain into the new one, each
 * copy naming its original (a rerun skips those already copied), then one
 * `partition.moved` entry. Returns how many entries it copied.
 */
async function copyHistory(
  personId: string,
  o: { from: AuditStore; to: AuditStore; fromPrefix: string; toPrefix: string; at: string },
): Promise<number> {
  const present = await o.to.list({ personId, limit: 5000 });
  const movedBefore = present.some((e) => e.type === 'partition.moved' && e.details.from === o.fromPrefix);
  const already = new Set(
    present
      .map((e) => e.details.movedFrom as { prefix?: string; seq?: number } | undefined)
      .filter((m) => m?.prefix === o.fromPrefix)
      .map((m) => m?.seq),
  );
  let copied = 0;
  for (const entry of await o.from.list({ personId, limit: 5000 })) {
    if (already.has(entry.seq)) continue;
    await o.to.append({
      at: entry.at,
      type: entry.type,
      actor: entry.actor,
      personId: entry.personId,
      actionId: entry.actionId,
      details: { ...entry.details, movedFrom: { prefix: o.fromPrefix, seq: entry.seq } },
    });
    copied++;
  }
  if (!movedBefore) {
    await o.to.append({
      at: o.at,
      type: 'partition.moved',
      actor: 'lastday',
      personId,
      details: { from: o.fromPrefix, to: o.toPrefix },
    });
  }
  return copied;
}

/**
 * What a move by the people index misses: the actions still under
 * `fromPrefix` whose home person (domain/reinstatement.ts `auditPersonOf`)
 * has no HR record there — a tool's initiator lastday does not know, or a
 * reinstatement requested by someone else — and the built-in directory users
 * without an HR record. Each such home whose partition changes gets their
 * audit history copied (as a person's) and their actions moved; directory
 * keys move after, in moveDirectory. Found by the state indexes and a SCAN of
 * `dir:*`, so a rerun finds only what is still here.
 */
async function moveHomesWithoutRecord(
  redis: RedisClient,
  fromPrefix: string,
  newPrefixOf: (personId: string) => string,
  o: { audit: (prefix: string) => AuditStore; movedActions: Map<string, string>; at: string },
): Promise<{ actions: number; auditCopied: number }> {
  const from = createKeys(fromPrefix);
  const homes = new Map<string, string[]>();
  for (const state of ACTION_STATES) {
    let cursor = '0';
    do {
      const [next, flat] = await redis.zscan(from.actionsByState(state), cursor, 'COUNT', 500);
      cursor = next;
      // One pipeline per batch: the actions of a partition share its slot.
      const ids = flat.filter((_, i) => i % 2 === 0);
      const read = redis.pipeline();
      for (const id of ids) read.hmget(from.action(id), 'initiatorId', 'kind', 'target');
      const rows = (await read.exec()) ?? [];
      ids.forEach((actionId, i) => {
        const [initiatorId, kind, target] = (rows[i]?.[1] ?? []) as (string | null)[];
        if (!initiatorId) return;
        const home = auditPersonOf({ initiatorId, kind: kind ?? '', target: target ?? '' });
        if (newPrefixOf(home) === fromPrefix) return;
        homes.set(home, [...(homes.get(home) ?? []), actionId]);
      });
    } while (cursor !== '0');
  }
  for (const personId of await directoryIdsUnder(redis, fromPrefix)) {
    if (newPrefixOf(personId) !== fromPrefix && !homes.has(personId)) homes.set(personId, []);
  }
  let actions = 0;
  let auditCopied = 0;
  for (const [home, actionIds] of homes) {
    const dest = newPrefixOf(home);
    const to = createKeys(dest);
    // A person with an HR record moved with their history already (movePerson).
    if ((await redis.exists(to.person(home))) === 0) {
      auditCopied += await copyHistory(home, {
        from: o.audit(fromPrefix),
        to: o.audit(dest),
        fromPrefix,
        toPrefix: dest,
        at: o.at,
      });
    }
    for (const actionId of actionIds) {
      if (await moveAction(redis, actionId, from, to)) {
        o.movedActions.set(actionId, dest);
        actions++;
      }
    }
  }
  return { actions, auditCopied };
}
