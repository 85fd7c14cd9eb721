/**
 * Key-level steps of `lastday partitions move` (./partitionMove.ts): copying a
 * key to another slot, finding keys by pattern on every master, and moving
 * one action, the built-in directory users, snapshot-retention entries and
 * overdue-alert marks of a partition to their people's new partitions, and
 * their queued jobs. Each
 * copies first and deletes the old keys last, so a rerun after a crash redoes
 * what is left (copies replace).
 */
import { type Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { decodeId } from '../domain/ids.ts';
import { QUEUES } from '../queues/names.ts';
import { createKeys, type Keys } from '../store/keys.ts';
import { isCluster, type RedisClient } from '../store/redisClient.ts';

export const ACTION_STATES = ['pending', 'held', 'approved', 'executed', 'cancelled'] as const;

/** Copies a key to another slot (DUMP/RESTORE REPLACE, TTL kept); false when it does not exist. */
export async function copyKey(redis: RedisClient, from: string, to: string): Promise<boolean> {
  const [dump, ttl] = await Promise.all([redis.dumpBuffer(from), redis.pttl(from)]);
  if (!dump) return false;
  await redis.restore(to, ttl > 0 ? ttl : 0, dump, 'REPLACE');
  return true;
}

/**
 * One action to another partition: its hash, its state index entries, its
 * entries in its initiator's by-initiator and pending indexes; then the old
 * ones are deleted. False when the action is gone. A rerun after a crash
 * copies again (copies replace) and deletes what is left.
 */
export async function moveAction(
  redis: RedisClient,
  actionId: string,
  from: Keys,
  to: Keys,
): Promise<boolean> {
  const [initiatorId, createdAt] = await redis.hmget(from.action(actionId), 'initiatorId', 'createdAt');
  if (!initiatorId) return false;
  await copyKey(redis, from.action(actionId), to.action(actionId));
  for (const state of ACTION_STATES) {
    const s = await redis.zscore(from.actionsByState(state), actionId);
    if (s !== null) await redis.zadd(to.actionsByState(state), s, actionId);
  }
  // Scored by registration; a by-initiator index its initiator's move already took: the record's own instant.
  const registered =
    (await redis.zscore(from.actionsByInitiator(initiatorId), actionId)) ??
    String(Date.parse(createdAt ?? ''));
  if (registered !== 'NaN') await redis.zadd(to.actionsByInitiator(initiatorId), registered, actionId);
  const pending = await redis.zscore(from.actionsPendingOf(initiatorId), actionId);
  if (pending !== null) await redis.zadd(to.actionsPendingOf(initiatorId), pending, actionId);
  for (const state of ACTION_STATES) await redis.zrem(from.actionsByState(state), actionId);
  await redis.zrem(from.actionsByInitiator(initiatorId), actionId);
  await redis.zrem(from.actionsPendingOf(initiatorId), actionId);
  await redis.del(from.action(actionId), from.actionClaim(actionId), from.auditByAction(actionId));
  return true;
}

/**
 * Overdue-alert marks (`ops:overdue-alerted:<person>:v<version>:<milestone>`,
 * with their TTL) follow their person, so a milestone overdue at the move is
 * not alerted on again from its new partition. Returns how many moved.
 */
export async function moveOverdueMarks(
  redis: RedisClient,
  fromPrefix: string,
  newPrefixOf: (personId: string) => string,
): Promise<number> {
  const head = `${fromPrefix}:ops:overdue-alerted:`;
  let moved = 0;
  for (const key of await scanKeys(redis, `${globEscape(head)}*`)) {
    const m = /^([^:]+):v(\d+):(.+)$/.exec(key.slice(head.length));
    if (!m) continue;
    const personId = decodeId(m[1] as string);
    const dest = newPrefixOf(personId);
    if (dest === fromPrefix) continue;
    await copyKey(redis, key, createKeys(dest).overdueAlerted(personId, Number(m[2]), m[3] as string));
    await redis.del(key);
    moved++;
  }
  return moved;
}

/** Every key matching `pattern`, on each master of a cluster (SCAN is per node). */
export async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
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

/** `s` as a SCAN MATCH pattern matching itself only. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/** The person ids of the built-in directory users under `prefix` (found by key). */
export async function directoryIdsUnder(redis: RedisClient, prefix: string): Promise<Set<string>> {
  const head = `${prefix}:dir:`;
  const ids = new Set<string>();
  for (const key of await scanKeys(redis, `${globEscape(head)}*`)) {
    const rest = key.slice(head.length);
    const encoded = rest.endsWith(':grants') ? rest.slice(0, -':grants'.length) : rest;
    // Encoded ids have no `:`; anything else under `dir:` is not a user's.
    if (!encoded.includes(':')) ids.add(decodeId(encoded));
  }
  return ids;
}

/**
 * The built-in directory users under `fromPrefix` whose partition is now
 * another: both keys copied (DUMP/RESTORE), then deleted here in one DEL.
 * Returns how many moved. `keepExisting` (the sweep of the global prefix
 * while lastday may have run with partitioned directory keys): a user already
 * in its partition was written there since, so it is kept and the global
 * leftover is left alone (logged).
 */
export async function moveDirectory(
  redis: RedisClient,
  fromPrefix: string,
  newPrefixOf: (personId: string) => string,
  o: { keepExisting?: boolean; log?: Logger | undefined } = {},
): Promise<number> {
  const ids = await directoryIdsUnder(redis, fromPrefix);
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
export async function moveSnapshots(
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
export async function moveJobs(
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
