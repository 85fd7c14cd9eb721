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
 * request, the actions they started (records, state indexes, pending index),
 * their snapshot-retention entries, their audit history (copied into the new
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
 */
import { type Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { QUEUES } from '../queues/names.ts';
import { ActionIndex } from '../store/actionIndex.ts';
import { AuditStore } from '../store/audit.ts';
import { createKeys, type Keys } from '../store/keys.ts';
import {
  layoutKey,
  type PartitionLayout,
  partitionOf,
  planPrefixes,
  readLayout,
  slotOwnerOf,
} from '../store/partitions.ts';
import { isCluster, type RedisClient } from '../store/redisClient.ts';
import { decodeId } from '../domain/ids.ts';

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

const ACTION_STATES = ['pending', 'held', 'approved', 'executed', 'cancelled'] as const;

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
      return { from: to, to, moved: 0, stayed: 0, jobs: 0, auditCopied: 0, directoryUsers, already: true };
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

/** Copies a key to another slot (DUMP/RESTORE REPLACE, TTL kept); false when it does not exist. */
async function copyKey(redis: RedisClient, from: string, to: string): Promise<boolean> {
  const [dump, ttl] = await Promise.all([redis.dumpBuffer(from), redis.pttl(from)]);
  if (!dump) return false;
  await redis.restore(to, ttl > 0 ? ttl : 0, dump, 'REPLACE');
  return true;
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
  for (const key of ['person', 'effects', 'freezeMark', 'reinstateRequest', 'actionsPendingOf'] as const) {
    await copyKey(redis, from[key](personId), to[key](personId));
  }
  const actionIds = await redis.zrange(from.actionsByInitiator(personId), 0, -1);
  await copyKey(redis, from.actionsByInitiator(personId), to.actionsByInitiator(personId));
  for (const actionId of actionIds) {
    await copyKey(redis, from.action(actionId), to.action(actionId));
    for (const state of ACTION_STATES) {
      const s = await redis.zscore(from.actionsByState(state), actionId);
      if (s !== null) await redis.zadd(to.actionsByState(state), s, actionId);
    }
    o.movedActions.set(actionId, to.prefix);
  }
  // The horizon pass finds the person's next milestone through this index.
  const nextDue = await redis.zscore(from.peopleByNextDue, personId);
  if (nextDue !== null) await redis.zadd(to.peopleByNextDue, nextDue, personId);
  await redis.zadd(to.peopleByEnd, score, personId);
  if (!movedBefore) {
    await o.to.append({
      at: o.at,
      type: 'partition.moved',
      actor: 'lastday',
      personId,
      details: { from: o.fromPrefix, to: to.prefix },
    });
  }
  // Last: gone from the old index means moved (a rerun starts from the index).
  for (const actionId of actionIds) {
    for (const state of ACTION_STATES) await redis.zrem(from.actionsByState(state), actionId);
    await redis.del(from.action(actionId), from.actionClaim(actionId), from.auditByAction(actionId));
  }
  for (const key of [
    'person',
    'effects',
    'freezeMark',
    'reinstateRequest',
    'actionsPendingOf',
    'actionsByInitiator',
    'personLock',
    'auditByPerson',
  ] as const) {
    await redis.del(from[key](personId));
  }
  await redis.zrem(from.peopleByNextDue, personId);
  await redis.zrem(from.peopleByEnd, personId);
  return copied;
}

/** Every key matching `pattern`, on each master of a cluster (SCAN is per node). */
async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found = new Set<string>();
  for (const node of isCluster(redis) ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) found.add(key);
    } while (cursor !== '0');
  }
  return [...found];
}

/**
 * The built-in directory users under `fromPrefix` whose partition is now
 * another: both keys copied (DUMP/RESTORE), then deleted here in one DEL.
 * Returns how many moved. `keepExisting` (the sweep of the global prefix
 * while lastday may have run with partitioned directory keys): a user already
 * in its partition was written there since, so it is kept and the global
 * leftover is left alone (logged).
 */
async function moveDirectory(
  redis: RedisClient,
  fromPrefix: string,
  newPrefixOf: (personId: string) => string,
  o: { keepExisting?: boolean; log?: Logger | undefined } = {},
): Promise<number> {
  const head = `${fromPrefix}:dir:`;
  const glob = head.replace(/[*?[\]\\]/g, '\\$&');
  const ids = new Set<string>();
  for (const key of await scanKeys(redis, `${glob}*`)) {
    const rest = key.slice(head.length);
    const encoded = rest.endsWith(':grants') ? rest.slice(0, -':grants'.length) : rest;
    // Encoded ids have no `:`; anything else under `dir:` is not a user's.
    if (!encoded.includes(':')) ids.add(decodeId(encoded));
  }
  const from = createKeys(fromPrefix);
  let moved = 0;
  for (const personId of ids) {
    const dest = newPrefixOf(personId);
    if (dest === fromPrefix) continue;
    const to = createKeys(dest);
    if (o.keepExisting && (await redis.exists(to.directoryUser(personId))) === 1) {
      o.log?.warn(
        { personId, from: fromPrefix, to: dest },
        'directory user already in its partition; global copy left',
      );
      continue;
    }
    await copyKey(redis, from.directoryGrants(personId), to.directoryGrants(personId));
    await copyKey(redis, from.directoryUser(personId), to.directoryUser(personId));
    await redis.del(from.directoryUser(personId), from.directoryGrants(personId));
    moved++;
  }
  return moved;
}

/** Snapshot-retention entries (`[cycle, personId]`) follow their person. */
async function moveSnapshots(
  redis: RedisClient,
  from: Keys,
  fromPrefix: string,
  newPrefixOf: (personId: string) => string,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(from.snapshotsUntil, cursor, 'COUNT', 500);
    cursor = next;
    for (let i = 0; i < flat.length; i += 2) {
      const member = flat[i] as string;
      const [, personId] = JSON.parse(member) as [unknown, string];
      const dest = newPrefixOf(personId);
      if (dest === fromPrefix) continue;
      await redis.zadd(createKeys(dest).snapshotsUntil, flat[i + 1] as string, member);
      await redis.zrem(from.snapshotsUntil, member);
    }
  } while (cursor !== '0');
}

/**
 * Waiting and delayed jobs of the milestones and actions queues whose person
 * (or action's initiator) moved are added to the new partition's queue with
 * the same id, name, data and due time, then removed here.
 */
async function moveJobs(
  redis: RedisClient,
  fromPrefix: string,
  newPrefixOf: (personId: string) => string,
  movedActions: Map<string, string>,
): Promise<number> {
  let moved = 0;
  const targets = new Map<string, Queue>();
  const queueAt = (name: string, prefix: string) => {
    const key = `${prefix}\n${name}`;
    let q = targets.get(key);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix });
      targets.set(key, q);
    }
    return q;
  };
  try {
    for (const name of [QUEUES.milestones, QUEUES.actions]) {
      const source = new Queue(name, { connection: redis, prefix: fromPrefix });
      try {
        const jobs = await source.getJobs(['delayed', 'waiting', 'prioritized', 'wait']);
        for (const job of jobs as Job[]) {
          const data = job.data as { personId?: string; actionId?: string };
          const dest =
            name === QUEUES.milestones
              ? data.personId !== undefined
                ? newPrefixOf(data.personId)
                : undefined
              : data.actionId !== undefined
                ? movedActions.get(data.actionId)
                : undefined;
          if (dest === undefined || dest === fromPrefix) continue;
          const dueMs = job.timestamp + (job.delay ?? 0);
          const { jobId: _id, delay: _delay, ...opts } = job.opts;
          await queueAt(name, dest).add(job.name, job.data, {
            ...opts,
            ...(job.id !== undefined ? { jobId: job.id } : {}),
            delay: Math.max(0, dueMs - Date.now()),
          });
          await job.remove();
          moved++;
        }
      } finally {
        await source.close();
      }
    }
  } finally {
    await Promise.all([...targets.values()].map((q) => q.close()));
  }
  return moved;
}
