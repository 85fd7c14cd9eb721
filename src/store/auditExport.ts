/**
 * The audit chain as NDJSON, for keeping outside Redis and verifying offline
 * (`GET /v1/audit/export`, `lastday audit export`, `lastday audit
 * verify-export`). The format, one JSON object per line:
 *
 *   {"lastdayAuditExport":1,"exportedAt","keyed","head":{"seq","hash"},"streamEnd"}
 *   {"seq","at","type","actor","personId"?,"actionId"?,"details","detailsText"?,"prevHash","hash"}
 *   …one line per entry, seq 1 to head.seq, in order
 *
 * The first line is the chain's stored head as read when the export began
 * (with the stream's newest id, read in the same step), so an export cut
 * short or missing its last lines fails verification on its own. Entry lines
 * are the `GET /v1/audit` entries. `details` is hashed as the JSON text Redis
 * stores (auditHash.ts); that text is JSON.stringify of the object, which
 * re-serialising the line's `details` gives back, so it is written out as
 * `detailsText` only for an entry where it would not (one edited in Redis by
 * hand): the export verifies exactly as the chain in Redis does.
 */
import type { RedisClient } from './redisClient.ts';
import { type AuditEntry, entryHead, parseDetails } from './audit.ts';
import { fieldMap, GENESIS, prevHashes } from './auditHash.ts';
import type { Keys } from './keys.ts';
import { chainHeadScript } from './lua/chain.ts';

/** The format's version, in the header line. */
export const AUDIT_EXPORT_VERSION = 1;

export interface AuditExportHeader {
  lastdayAuditExport: number;
  exportedAt: string;
  /** Whether this lastday hashes under LASTDAY_AUDIT_KEY (a hint: the verifier's key decides). */
  keyed: boolean;
  /** The stored head when the export began; `seq` null when it was not a number. */
  head: { seq: number | null; hash: string };
  /** The stream's newest entry id at that moment (`<seq>-0`), or null for an empty stream. */
  streamEnd: string | null;
}

/** A `GET /v1/audit` entry, whose details may be any JSON the stream holds, and their stored text. */
export interface AuditExportLine extends Omit<AuditEntry, 'details'> {
  details: unknown;
  /** The stored text of `details`, when JSON.stringify(details) would not give it back. */
  detailsText?: string;
}

const PAGE = 1000;

export interface AuditExport {
  header: AuditExportHeader;
  /** The entry lines (without newlines), seq 1 to the header's head. */
  entries(): AsyncGenerator<string>;
}

/**
 * Starts an export: reads the head now (so a Redis that is away fails here,
 * before anything is sent), then pages through the stream up to that head;
 * entries appended meanwhile belong to the next export.
 */
export async function openAuditExport(
  redis: RedisClient,
  keys: Pick<Keys, 'auditSeq' | 'auditHead' | 'auditLog'>,
  options: { keyed: boolean; now: () => Date },
): Promise<AuditExport> {
  const [seqRaw, hashRaw, newestId] = (await chainHeadScript.run(
    redis,
    [keys.auditSeq, keys.auditHead, keys.auditLog],
    [],
  )) as [string | null, string | null, string | null];
  const seqText = seqRaw ?? '0';
  const seq = /^\d+$/.test(seqText) && Number.isSafeInteger(Number(seqText)) ? Number(seqText) : null;
  const header: AuditExportHeader = {
    lastdayAuditExport: AUDIT_EXPORT_VERSION,
    exportedAt: options.now().toISOString(),
    keyed: options.keyed,
    head: { seq, hash: hashRaw ?? GENESIS },
    streamEnd: newestId ?? null,
  };
  return {
    header,
    async *entries() {
      if (seq === 0) return;
      // A head that is not a number is tampering: export the whole stream for the verifier to judge.
      const end = seq === null ? '+' : `${seq}-0`;
      let cursor = '-';
      let before: [string, string[]] | undefined;
      for (;;) {
        const rows = await redis.xrange(keys.auditLog, cursor, end, 'COUNT', PAGE);
        const prevs = prevHashes(rows, before);
        for (const [i, [id, fields]] of rows.entries()) {
          yield JSON.stringify(exportLine(id, fields, prevs[i]!));
        }
        if (rows.length < PAGE) return;
        before = rows[rows.length - 1]!;
        cursor = `(${before[0]}`;
      }
    },
  };
}

/** The whole export as NDJSON text in chunks of about `chunkBytes` (header first, a newline after each line). */
export async function* auditExportChunks(exp: AuditExport, chunkBytes = 64 * 1024): AsyncGenerator<string> {
  let chunk = `${JSON.stringify(exp.header)}\n`;
  for await (const line of exp.entries()) {
    chunk += `${line}\n`;
    if (chunk.length >= chunkBytes) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

function exportLine(id: string, fields: string[], prevHash: string): AuditExportLine {
  const f = fieldMap(fields);
  const text = f.details ?? '{}';
  const details = parseDetails(text);
  return {
    ...entryHead(id, f),
    details,
    ...(JSON.stringify(details) !== text ? { detailsText: text } : {}),
    prevHash,
    hash: f.hash ?? '',
  };
}
