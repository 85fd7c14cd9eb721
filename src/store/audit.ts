/**
 * The audit trail: append-only and hash-chained (the chain's definition is in
 * auditHash.ts). Every entry is written by a script that also makes the state
 * change it records, through this store's one appender (auditChain.ts), and
 * `verify` checks the whole chain against the stored head (auditVerify.ts).
 */
import type { RedisClient } from './redisClient.ts';
import { type ChainHead, type ChainKeys, AuditChain } from './auditChain.ts';
import {
  chainHasher,
  contentHash,
  type EntryContent,
  fieldMap,
  prevHashes,
  storedContent,
} from './auditHash.ts';
import { type VerifyResult, verifyChain } from './auditVerify.ts';
import type { Keys } from './keys.ts';
import { auditAppendScript } from './lua/scripts.ts';
import type { Script } from './lua/script.ts';

export interface AuditInput {
  type: string;
  /** Who did it: `hr`, `system`, `worker`, a token name, a person id. */
  actor: string;
  personId?: string | undefined;
  actionId?: string | undefined;
  details?: Record<string, unknown> | undefined;
  /** ISO instant; the caller's clock. */
  at: string;
}

export interface AuditEntry {
  seq: number;
  at: string;
  type: string;
  actor: string;
  personId?: string;
  actionId?: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type { ChainHead, VerifyResult };

export interface AuditStoreOptions {
  /** LASTDAY_AUDIT_KEY: hashes become HMAC-SHA-256 under it. A secret: never logged. */
  key?: string | undefined;
}

export class AuditStore {
  private readonly chain: AuditChain;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    options: AuditStoreOptions = {},
  ) {
    const chainKeys: ChainKeys = {
      seq: keys.auditSeq,
      head: keys.auditHead,
      log: keys.auditLog,
      turn: keys.auditTurn,
    };
    this.chain = new AuditChain(redis, chainKeys, chainHasher(options.key));
  }

  /** True when entries are HMACs under LASTDAY_AUDIT_KEY. */
  get keyed(): boolean {
    return this.chain.hasher.keyed;
  }

  /** Appends an entry on its own (no state change with it). Returns its seq. */
  async append(input: AuditInput): Promise<number> {
    return Number(await this.run(auditAppendScript, [], [], input));
  }

  /**
   * Runs a chained script (lua/chain.ts) with `audit` as its entry: the state
   * change and the entry happen together or not at all. Resolves with the
   * script body's reply; whether it appended is the body's own precondition.
   * `first`: sent ahead of the writes still waiting for the chain (see
   * ChainedWrite.first).
   */
  run(
    script: Script,
    keys: readonly string[],
    args: readonly (string | number)[],
    audit: AuditInput,
    options: { first?: boolean } = {},
  ) {
    return this.chain.write({
      script,
      keys,
      args,
      entry: toContent(audit),
      indexKeys: this.indexKeysFor(audit),
      ...(options.first ? { first: true } : {}),
    });
  }

  /** The stored head (seq 0 and GENESIS before the first entry). */
  head(): Promise<ChainHead> {
    return this.chain.readHead();
  }

  /** The stored head, and the highest seq this process saw before (see AuditChain.checkHead). */
  checkHead(): Promise<{ head: ChainHead; highestSeen: number }> {
    return this.chain.checkHead();
  }

  /**
   * Under a key, makes sure the newest entry is keyed: a chain written before
   * the key was set gets one `audit.keyed` entry, after which verify accepts
   * the unkeyed entries before it and requires every later one to be keyed
   * (see auditVerify.ts). Checks the newest entry only. No-op without a key.
   * @returns whether it appended.
   */
  async sealKeyed(at: string): Promise<boolean> {
    if (!this.keyed) return false;
    const newestTwo = await this.redis.xrevrange(this.chain.keys.log, '+', '-', 'COUNT', 2);
    const [newest, before] = newestTwo;
    if (!newest) return false;
    const [id, fields] = newest;
    const f = fieldMap(fields);
    const seq = Number(id.split('-')[0]);
    const [prevHash = ''] = prevHashes([newest], before);
    if (f.hash === this.chain.hasher.link(prevHash, seq, contentHash(storedContent(f)))) return false;
    await this.append({ at, type: 'audit.keyed', actor: 'lastday', details: { from: seq + 1 } });
    return true;
  }

  private indexKeysFor(input: Pick<AuditInput, 'actionId'>): [string, string] {
    const k = this.keys;
    // Cluster needs every key a script touches declared; the log stands in for "no index".
    return [k.auditPeople, input.actionId !== undefined ? k.auditByAction(input.actionId) : k.auditLog];
  }

  /** A person's seqs: the people hash, and the list an earlier version kept per person. */
  private async personSeqs(personId: string): Promise<number[]> {
    const [[, packed], [, listed]] = (await this.redis
      .pipeline()
      .hget(this.keys.auditPeople, personId)
      .lrange(this.keys.auditByPerson(personId), 0, -1)
      .exec()) as [[null, string | null], [null, string[]]];
    const seqs = [...listed, ...(packed ? packed.split(',') : [])].map(Number);
    return [...new Set(seqs)].sort((a, b) => a - b);
  }

  /** Entries in sequence order, optionally only those of one person or action. */
  async list(filter: { personId?: string; actionId?: string; afterSeq?: number; limit?: number }) {
    const limit = Math.min(Math.max(filter.limit ?? 500, 1), 5000);
    const after = filter.afterSeq ?? 0;
    if (filter.personId === undefined && filter.actionId === undefined) {
      const rows = await this.redis.xrange(this.keys.auditLog, `(${after}-0`, '+', 'COUNT', limit);
      // The entry before the first, whose hash is the first one's prevHash.
      const first = rows[0] ? Number(rows[0][0].split('-')[0]) : 0;
      const before =
        first > 1
          ? (await this.redis.xrange(this.keys.auditLog, `${first - 1}-0`, `${first - 1}-0`))[0]
          : undefined;
      const prevs = prevHashes(rows, before);
      return rows.map(([id, fields], i) => parseEntry(id, fields, prevs[i]!));
    }
    const indexed =
      filter.personId !== undefined
        ? await this.personSeqs(filter.personId)
        : (await this.redis.lrange(this.keys.auditByAction(filter.actionId!), 0, -1)).map(Number);
    const seqs = indexed.filter((s) => s > after);
    let entries: AuditEntry[] = [];
    const wanted = seqs.slice(0, limit);
    const pipeline = this.redis.pipeline();
    // Each entry with the one before it, whose hash is its prevHash.
    for (const seq of wanted) pipeline.xrange(this.keys.auditLog, `${Math.max(seq - 1, 1)}-0`, `${seq}-0`);
    const results = (await pipeline.exec()) ?? [];
    entries = results.flatMap(([err, found], i) => {
      const rows = err ? [] : (found as [string, string[]][]);
      const at = rows.findIndex(([id]) => id === `${wanted[i]}-0`);
      if (at < 0) return [];
      const [prevHash = ''] = prevHashes([rows[at]!], rows[at - 1]);
      return [parseEntry(rows[at]![0], rows[at]![1], prevHash)];
    });
    // Both filters at once: narrow by the second in memory.
    if (filter.personId !== undefined && filter.actionId !== undefined) {
      entries = entries.filter((e) => e.actionId === filter.actionId);
    }
    return entries;
  }

  /** Walks the whole chain against the stored head and count (see auditVerify.ts). */
  verify(): Promise<VerifyResult> {
    return verifyChain(this.redis, this.chain.keys, this.chain.hasher);
  }
}

function toContent(input: AuditInput): EntryContent {
  return {
    at: input.at,
    type: input.type,
    actor: input.actor,
    personId: input.personId ?? '',
    actionId: input.actionId ?? '',
    details: JSON.stringify(input.details ?? {}),
  };
}

function parseEntry(id: string, fields: string[], prevHash: string): AuditEntry {
  const f = fieldMap(fields);
  return {
    ...entryHead(id, f),
    details: parseDetails(f.details ?? '{}') as Record<string, unknown>,
    prevHash,
    hash: f.hash ?? '',
  };
}

/**
 * The fields an entry shows ahead of its details, in the order `GET /v1/audit`
 * and an export line (auditExport.ts) print them; `f` is from `fieldMap`.
 */
export function entryHead(id: string, f: Record<string, string>) {
  return {
    seq: Number(id.split('-')[0]),
    at: f.at ?? '',
    type: f.type ?? '',
    actor: f.actor ?? '',
    ...(f.personId ? { personId: f.personId } : {}),
    ...(f.actionId ? { actionId: f.actionId } : {}),
  };
}

/** An entry's stored details text, parsed; text that is not JSON is shown as `{"unparsable": text}`. */
export function parseDetails(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { unparsable: text };
  }
}
