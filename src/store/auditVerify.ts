/**
 * Verifies one audit chain against its stored head: every entry from seq 1
 * to the head's seq is present exactly once (stream id `<seq>-0`), each hash
 * recomputes from its predecessor's (auditHash.ts; and a stored `prevHash`,
 * which entries of earlier versions carry, is that predecessor's hash),
 * the last one is the stored head hash, and the stream holds nothing beyond
 * the head. So removing the first, a middle or the last entry, editing one,
 * renaming or deleting the stream, and rolling the head back all fail, each
 * with the seq where the chain breaks and a reason.
 *
 * What this cannot see from inside Redis: someone who rewrites the stream
 * *and* the head consistently. Without a key they can recompute every hash;
 * with LASTDAY_AUDIT_KEY they cannot, but they can still truncate the chain
 * and roll the head back to an older entry. An outside copy of the head (the
 * `lastday_audit_head_seq` metric, the reconcile log line) catches that.
 */
import type { RedisClient } from './redisClient.ts';
import type { ChainHead, ChainKeys } from './auditChain.ts';
import { type ChainHasher, chainHasher, contentHash, fieldMap, GENESIS, storedContent } from './auditHash.ts';
import { chainHeadScript } from './lua/chain.ts';

export interface VerifyResult {
  ok: boolean;
  /** Entries verified from seq 1 on (all of them when ok). */
  entries: number;
  /** The head as stored: seq 0 and GENESIS for an empty chain. */
  head: ChainHead;
  /** The seq where the chain breaks. */
  brokenAt?: number;
  reason?: string;
}

const PAGE = 1000;
const UNKEYED = chainHasher();

/**
 * Walks the chain. With a keyed hasher, entries written before the key was set
 * (plain SHA-256) are accepted only as an unbroken prefix, and the newest
 * entry must be keyed, so a chain rewritten without the key fails.
 */
export async function verifyChain(
  redis: RedisClient,
  keys: ChainKeys,
  hasher: ChainHasher,
): Promise<VerifyResult> {
  try {
    return await walk(redis, keys, hasher);
  } catch (err) {
    // A chain key replaced by another type is tampering too, not a server error.
    if (err instanceof Error && err.message.includes('WRONGTYPE')) {
      return {
        ok: false,
        entries: 0,
        head: { seq: 0, hash: GENESIS },
        brokenAt: 1,
        reason: 'a chain key holds the wrong type',
      };
    }
    throw err;
  }
}

async function walk(redis: RedisClient, keys: ChainKeys, hasher: ChainHasher): Promise<VerifyResult> {
  // One snapshot of the head and the stream's newest id: entries appended
  // during the walk lie beyond this head and are not looked at.
  const [seqRaw, hashRaw, newestId] = (await chainHeadScript.run(
    redis,
    [keys.seq, keys.head, keys.log],
    [],
  )) as [string | null, string | null, string | null];
  const seqText = seqRaw ?? '0';
  const head: ChainHead = { seq: Number(seqText), hash: hashRaw ?? GENESIS };
  const broken = (entries: number, brokenAt: number, reason: string): VerifyResult => ({
    ok: false,
    entries,
    head,
    brokenAt,
    reason,
  });
  if (!/^\d+$/.test(seqText) || !Number.isSafeInteger(head.seq)) {
    return broken(0, 1, `the stored head seq is not a number: ${JSON.stringify(seqText.slice(0, 40))}`);
  }

  let expected = 1;
  let prev = GENESIS;
  let keyedSeen = false;
  let cursor = '-';
  const end = `${head.seq}-0`;
  while (head.seq > 0) {
    const rows = await redis.xrange(keys.log, cursor, end, 'COUNT', PAGE);
    if (rows.length === 0) break;
    for (const [id, fields] of rows) {
      const verified = expected - 1;
      if (id !== `${expected}-0`) {
        return compareIds(id, `${expected}-0`) > 0
          ? broken(verified, expected, `entry ${expected} is missing (the next entry is ${id})`)
          : broken(verified, expected, `unexpected entry id ${id} where ${expected}-0 belongs`);
      }
      const f = fieldMap(fields);
      // Entries of earlier versions store prevHash; later ones link by their hash alone.
      if (f.prevHash !== undefined && f.prevHash !== prev) {
        return broken(verified, expected, `entry ${expected}: prevHash mismatch`);
      }
      const content = contentHash(storedContent(f));
      if (f.hash === hasher.link(prev, expected, content)) {
        keyedSeen ||= hasher.keyed;
      } else if (!(hasher.keyed && !keyedSeen && f.hash === UNKEYED.link(prev, expected, content))) {
        return broken(verified, expected, `entry ${expected}: hash mismatch`);
      }
      prev = f.hash;
      expected++;
    }
    cursor = `(${rows[rows.length - 1]![0]}`;
  }

  const walked = expected - 1;
  if (walked < head.seq) {
    return broken(
      walked,
      walked + 1,
      walked === 0
        ? `the stream has no entries but the stored head is at seq ${head.seq} (stream missing, renamed or emptied)`
        : `the chain ends at seq ${walked} but the stored head is at seq ${head.seq}`,
    );
  }
  if (prev !== head.hash) {
    return walked === 0
      ? broken(0, 1, 'the chain is empty but the stored head hash is not GENESIS')
      : broken(walked - 1, walked, `entry ${walked}'s hash is not the stored head hash`);
  }
  if (newestId && compareIds(newestId, end) > 0) {
    return broken(
      walked,
      walked + 1,
      `the stream holds entry ${newestId} beyond the stored head (seq ${head.seq}): the head was rolled back or an entry added`,
    );
  }
  if (hasher.keyed && head.seq > 0 && !keyedSeen) {
    return broken(
      walked - 1,
      walked,
      'no entry is keyed: the chain was not written under LASTDAY_AUDIT_KEY since the key was set',
    );
  }
  return { ok: true, entries: walked, head };
}

/** Compares stream ids `<ms>-<seq>` numerically. */
function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
