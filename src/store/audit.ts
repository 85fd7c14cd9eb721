/**
 * The audit trail: append-only and hash-chained. Each entry's `hash` is
 * SHA-256(prevHash | seq | contentHash), where contentHash is SHA-256 of the
 * entry's canonical content; the chain is extended atomically in Lua (see
 * lua/scripts.ts) and checked end to end by `verify`.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';
import { auditAppendScript } from './lua/scripts.ts';

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

const GENESIS = '0'.repeat(64);

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function contentHash(
  at: string,
  type: string,
  actor: string,
  personId: string,
  actionId: string,
  details: string,
) {
  return sha256(JSON.stringify([at, type, actor, personId, actionId, details]));
}

export class AuditStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** The 5 keys every audit-appending script takes last. */
  keysFor(input: Pick<AuditInput, 'personId' | 'actionId'>): string[] {
    const k = this.keys;
    return [
      k.auditSeq,
      k.auditHead,
      k.auditLog,
      input.personId !== undefined ? k.auditByPerson(input.personId) : k.auditLog,
      input.actionId !== undefined ? k.auditByAction(input.actionId) : k.auditLog,
    ];
  }

  /** The 7 args every audit-appending script takes last. */
  argsFor(input: AuditInput): string[] {
    const personId = input.personId ?? '';
    const actionId = input.actionId ?? '';
    const details = JSON.stringify(input.details ?? {});
    return [
      input.at,
      input.type,
      input.actor,
      personId,
      actionId,
      details,
      contentHash(input.at, input.type, input.actor, personId, actionId, details),
    ];
  }

  async append(input: AuditInput): Promise<number> {
    return Number(await auditAppendScript.run(this.redis, this.keysFor(input), this.argsFor(input)));
  }

  /** Entries in sequence order, optionally only those of one person or action. */
  async list(filter: { personId?: string; actionId?: string; afterSeq?: number; limit?: number }) {
    const limit = Math.min(Math.max(filter.limit ?? 500, 1), 5000);
    const after = filter.afterSeq ?? 0;
    const indexKey =
      filter.personId !== undefined
        ? this.keys.auditByPerson(filter.personId)
        : filter.actionId !== undefined
          ? this.keys.auditByAction(filter.actionId)
          : undefined;
    if (indexKey === undefined) {
      const rows = await this.redis.xrange(this.keys.auditLog, `(${after}-0`, '+', 'COUNT', limit);
      return rows.map(([id, fields]) => parseEntry(id, fields));
    }
    const seqs = (await this.redis.lrange(indexKey, 0, -1)).map(Number).filter((s) => s > after);
    let entries: AuditEntry[] = [];
    const wanted = seqs.slice(0, limit);
    const pipeline = this.redis.pipeline();
    for (const seq of wanted) pipeline.xrange(this.keys.auditLog, `${seq}-0`, `${seq}-0`);
    const results = (await pipeline.exec()) ?? [];
    entries = results.flatMap(([err, rows]) =>
      err ? [] : (rows as [string, string[]][]).map(([id, fields]) => parseEntry(id, fields)),
    );
    // Both filters at once: narrow by the second in memory.
    if (filter.personId !== undefined && filter.actionId !== undefined) {
      entries = entries.filter((e) => e.actionId === filter.actionId);
    }
    return entries;
  }

  /** Walks the whole chain, recomputing every hash. */
  async verify(): Promise<{ ok: boolean; entries: number; brokenAt?: number; reason?: string }> {
    let prev = GENESIS;
    let count = 0;
    let cursor = '-';
    for (;;) {
      const rows = await this.redis.xrange(this.keys.auditLog, cursor, '+', 'COUNT', 1000);
      if (rows.length === 0) break;
      for (const [id, fields] of rows) {
        const e = parseEntry(id, fields);
        const f = toMap(fields);
        const content = contentHash(
          e.at,
          e.type,
          e.actor,
          f.personId ?? '',
          f.actionId ?? '',
          f.details ?? '{}',
        );
        if (e.prevHash !== prev)
          return { ok: false, entries: count, brokenAt: e.seq, reason: 'prevHash mismatch' };
        if (sha256(`${prev}|${e.seq}|${content}`) !== e.hash) {
          return { ok: false, entries: count, brokenAt: e.seq, reason: 'hash mismatch' };
        }
        prev = e.hash;
        count++;
      }
      cursor = `(${rows[rows.length - 1]![0]}`;
    }
    return { ok: true, entries: count };
  }
}

function toMap(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

function parseEntry(id: string, fields: string[]): AuditEntry {
  const f = toMap(fields);
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(f.details ?? '{}') as Record<string, unknown>;
  } catch {
    details = { unparsable: f.details };
  }
  return {
    seq: Number(id.split('-')[0]),
    at: f.at ?? '',
    type: f.type ?? '',
    actor: f.actor ?? '',
    ...(f.personId ? { personId: f.personId } : {}),
    ...(f.actionId ? { actionId: f.actionId } : {}),
    details,
    prevHash: f.prevHash ?? '',
    hash: f.hash ?? '',
  };
}
