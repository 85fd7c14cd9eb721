/**
 * Partitions: people spread over `LASTDAY_PARTITIONS` key spaces, each in one
 * hash slot on a Redis Cluster, so the multi-key scripts of one person stay
 * atomic while the load spreads over the masters (docs/cluster.md).
 *
 * - The partition of a person is a jump consistent hash of the first 8 bytes
 *   of SHA-256(person id): stable across processes and languages, and going
 *   from N to M partitions moves only ≈ |M−N|/max(M,N) of the people.
 * - The layout (count and each partition's key prefix) is chosen once, at the
 *   first start, and stored under the global prefix (`<prefix>:partitions`);
 *   it never changes afterwards except through `lastday partitions move`.
 * - One partition keeps today's plain prefix (single Redis) or `{<prefix>}`
 *   (cluster), so data written before partitions existed is partition 0 of 1.
 * - On a cluster each partition's hash tag is chosen by the slot map at that
 *   first start so the partitions fall evenly on the masters: `{<prefix>:<p>}`
 *   when its slot is on the master due next, else `{<prefix>:<p>.<n>}` for the
 *   first n that is (the plain tags land 4/4/8 on the default 3-master ranges).
 */
import { createHash } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { createKeys, type Keys } from './keys.ts';
import { isCluster, type RedisClient } from './redisClient.ts';

/** The stored layout: how many partitions and the key prefix of each. */
export interface PartitionLayout {
  count: number;
  prefixes: string[];
  /**
   * Prefixes of partitions a `partitions move` left behind: no person lives
   * there any more, but their audit chains hold history and are still verified.
   */
  retired?: string[];
}

/** Default partition count: 1 on a single Redis, 16 on a cluster (contract v1.1, section 1). */
export function defaultPartitionCount(cluster: boolean): number {
  return cluster ? 16 : 1;
}

/** Jump consistent hash (Lamping & Veach 2014) of a 64-bit key over `buckets`. */
export function jumpHash(key: bigint, buckets: number): number {
  const mask = (1n << 64n) - 1n;
  let k = key & mask;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & mask;
    j = Math.floor(((b + 1) * 2 ** 31) / Number((k >> 33n) + 1n));
  }
  return b;
}

/** The partition of a person among `count`. */
export function partitionOf(personId: string, count: number): number {
  if (count <= 1) return 0;
  const digest = createHash('sha256').update(personId, 'utf8').digest();
  return jumpHash(digest.readBigUInt64BE(0), count);
}

/** `{lastday}` → `lastday`, `lastday` → `lastday`: the name inside a hash tag. */
function tagBase(prefix: string): { base: string; rest: string; tagged: boolean } {
  const m = /^\{([^}]+)\}(.*)$/.exec(prefix);
  return m
    ? { base: m[1] ?? prefix, rest: m[2] ?? '', tagged: true }
    : { base: prefix, rest: '', tagged: false };
}

/**
 * The prefixes of `count` partitions under `prefix`. One partition: the
 * prefix itself. A single Redis: `<prefix>:<p>` (every key still starts with
 * the prefix). A cluster (`slotOwner` given): `{<prefix>:<p>}`, salted as
 * `{<prefix>:<p>.<n>}` until its slot is on the master with the fewest
 * partitions so far.
 */
export function planPrefixes(
  prefix: string,
  count: number,
  slotOwner?: (slot: number) => string | undefined,
): string[] {
  if (count === 1) return [prefix];
  const { base, rest, tagged } = tagBase(prefix);
  if (!slotOwner) {
    return Array.from({ length: count }, (_, p) => (tagged ? `{${base}:${p}}${rest}` : `${prefix}:${p}`));
  }
  const masters = [
    ...new Set(Array.from({ length: 16384 }, (_, s) => slotOwner(s)).filter(Boolean)),
  ] as string[];
  const load = new Map(masters.map((m) => [m, 0]));
  const prefixes: string[] = [];
  for (let p = 0; p < count; p++) {
    const fewest = Math.min(...load.values());
    let chosen: string | undefined;
    for (let n = 0; n < 10_000 && !chosen; n++) {
      const tag = `${base}:${p}${n === 0 ? '' : `.${n}`}`;
      const owner = slotOwner(calculateSlot(tag));
      if (owner !== undefined && load.get(owner) === fewest) {
        chosen = `{${tag}}${rest}`;
        load.set(owner, fewest + 1);
      }
    }
    prefixes.push(chosen ?? `{${base}:${p}}${rest}`);
  }
  return prefixes;
}

/** A start whose `LASTDAY_PARTITIONS` differs from the stored count. */
export class PartitionCountError extends Error {
  constructor(
    readonly requested: number,
    readonly stored: number,
  ) {
    super(
      `LASTDAY_PARTITIONS=${requested} but this Redis holds ${stored} partition${stored === 1 ? '' : 's'}; ` +
        `run "lastday partitions move --to ${requested}" with the workers stopped first, or start with LASTDAY_PARTITIONS=${stored}`,
    );
    this.name = 'PartitionCountError';
  }
}

/** A start while `lastday partitions move` has not finished. */
export class PartitionMoveUnderWayError extends Error {
  constructor() {
    super('a "lastday partitions move" is under way and not finished; run it again to finish it, then start');
    this.name = 'PartitionCountError';
  }
}

/** Where the layout is stored (under the global prefix, never moved). */
export function layoutKey(prefix: string): string {
  return `${prefix}:partitions`;
}

/** The stored layout, or undefined on a Redis lastday never started on with partitions. */
export async function readLayout(redis: RedisClient, prefix: string): Promise<PartitionLayout | undefined> {
  const raw = await redis.get(layoutKey(prefix));
  return raw ? (JSON.parse(raw) as PartitionLayout) : undefined;
}

/** The master (`host:port`) owning each slot, from the client's slot map; undefined on a single Redis. */
export function slotOwnerOf(redis: RedisClient): ((slot: number) => string | undefined) | undefined {
  if (!isCluster(redis)) return undefined;
  return (slot) => redis.slots[slot]?.[0];
}

/**
 * The layout to run with: the stored one, or (first start) a new one for
 * `requested` (default: 1 on a single Redis, 16 on a cluster), stored with
 * SET NX so processes starting together agree. Data written before
 * partitions existed (people under the plain prefix, nothing stored) is a
 * layout of 1.
 * @throws PartitionCountError when `requested` is set and differs from the stored count.
 */
export async function loadLayout(
  redis: RedisClient,
  prefix: string,
  requested: number | undefined,
): Promise<PartitionLayout> {
  if ((await redis.exists(`${prefix}:partitions-move`)) === 1) {
    throw new PartitionMoveUnderWayError();
  }
  let stored = await readLayout(redis, prefix);
  if (!stored) {
    const legacy = (await redis.exists(createKeys(prefix).peopleByEnd)) === 1;
    const count = legacy ? 1 : (requested ?? defaultPartitionCount(isCluster(redis)));
    const layout: PartitionLayout = { count, prefixes: planPrefixes(prefix, count, slotOwnerOf(redis)) };
    await redis.set(layoutKey(prefix), JSON.stringify(layout), 'NX');
    stored = (await readLayout(redis, prefix)) ?? layout;
  }
  if (requested !== undefined && requested !== stored.count) {
    throw new PartitionCountError(requested, stored.count);
  }
  return stored;
}

/** The partitions of one lastday: where a person's keys and queues live. */
export class Partitions {
  private readonly keyCache: Keys[];

  constructor(
    /** The global prefix (`{<prefix>}` on a cluster): intake, idempotency, crons, the layout. */
    readonly prefix: string,
    readonly layout: PartitionLayout,
  ) {
    this.keyCache = layout.prefixes.map((p) => createKeys(p));
  }

  get count(): number {
    return this.layout.count;
  }

  /** The partition of a person. */
  partitionOf(personId: string): number {
    return partitionOf(personId, this.layout.count);
  }

  /** The key (and BullMQ queue) prefix of partition `p`. */
  prefixOf(p: number): string {
    const prefix = this.layout.prefixes[p];
    if (prefix === undefined) throw new RangeError(`no partition ${p} of ${this.layout.count}`);
    return prefix;
  }

  /** The keys of partition `p`. */
  keys(p: number): Keys {
    const keys = this.keyCache[p];
    if (!keys) throw new RangeError(`no partition ${p} of ${this.layout.count}`);
    return keys;
  }

  /** 0 … count−1. */
  all(): number[] {
    return Array.from({ length: this.layout.count }, (_, p) => p);
  }

  /** Runs `fn` for every partition, at most `concurrency` at a time; results in partition order. */
  async forEach<T>(fn: (p: number) => Promise<T>, concurrency = 4): Promise<T[]> {
    const results: T[] = new Array(this.layout.count);
    let next = 0;
    const run = async () => {
      while (next < this.layout.count) {
        const p = next++;
        results[p] = await fn(p);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, this.layout.count) }, run));
    return results;
  }
}
