/**
 * Verifies an audit export (auditExport.ts) from the file alone, offline: no
 * Redis, no lastday running. It recomputes every hash with the chain's own
 * definition (auditHash.ts) and applies the rules `GET /v1/audit/verify`
 * applies to the chain in Redis (auditVerify.ts):
 *
 * - a header line first; then entries seq 1, 2, 3, … each once, in order;
 * - each `prevHash` is the previous entry's hash (GENESIS for the first), and
 *   each hash recomputes — HMAC-SHA-256 under the key when one is given, in
 *   which case plain SHA-256 entries (written before the key was set) are
 *   accepted only as an unbroken prefix and some entry must be keyed;
 * - the entries end exactly at the header's head (seq and hash), and the
 *   stream held nothing beyond it when exported.
 *
 * So a line deleted at the start, middle or end, an edited field, lines
 * swapped or repeated, and an export cut short all fail, with the seq where
 * the chain breaks. What a file alone cannot show is a chain cut back
 * consistently, header included: compare with a head kept elsewhere
 * (`expectedHead`: the `audit head` log line, the head metrics, an earlier
 * export), whose seq must be in the export with that very hash.
 */
import { type ChainHasher, chainHasher, contentHash, GENESIS } from './auditHash.ts';
import { AUDIT_EXPORT_VERSION, type AuditExportHeader } from './auditExport.ts';

export interface ExpectedHead {
  seq: number;
  hash: string;
}

export interface ExportVerifyResult {
  ok: boolean;
  /** Entries verified from seq 1 on (all of them when ok). */
  entries: number;
  /** The last verified entry (seq 0 and GENESIS before the first). */
  head: ExpectedHead;
  /** The head the export's header names (null when the header is missing or unreadable). */
  exportHead: { seq: number | null; hash: string } | null;
  brokenAt?: number;
  reason?: string;
  /** The comparison with `expectedHead`, when one was given. */
  expected?: ExpectedHead & { ok: boolean; reason?: string };
}

export interface ExportVerifyOptions {
  /** LASTDAY_AUDIT_KEY of the lastday that wrote the chain; none: plain SHA-256. */
  key?: string | undefined;
  /** A head kept outside Redis; its seq must be in the export with this hash. */
  expectedHead?: ExpectedHead | undefined;
}

const UNKEYED = chainHasher();

/** Verifies the lines of an export (without their newlines; blank lines are ignored). */
export async function verifyAuditExport(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ExportVerifyOptions = {},
): Promise<ExportVerifyResult> {
  const walker = new ExportWalker(chainHasher(options.key), options.expectedHead);
  for await (const line of lines) {
    if (line.trim() === '') continue;
    if (!walker.line(line)) break;
  }
  return walker.finish();
}

class ExportWalker {
  private header: AuditExportHeader | undefined;
  private lineNo = 0;
  private expected = 1;
  private prev = GENESIS;
  private keyedSeen = false;
  private broken: { at: number; reason: string } | undefined;
  private seen: ExpectedHead | undefined;

  constructor(
    private readonly hasher: ChainHasher,
    private readonly expectedHead: ExpectedHead | undefined,
  ) {}

  /** Takes one line; false once the chain is broken (the rest need not be read). */
  line(text: string): boolean {
    this.lineNo++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.fail(
        this.header ? this.expected : 1,
        `line ${this.lineNo} is not JSON${this.header ? ` (where entry ${this.expected} belongs)` : ''}`,
      );
    }
    if (!this.header) return this.takeHeader(value);
    return this.takeEntry(value);
  }

  private takeHeader(value: unknown): boolean {
    const h = value as Partial<AuditExportHeader> | null;
    if (!h || typeof h !== 'object' || h.lastdayAuditExport === undefined) {
      return this.fail(
        1,
        'the export has no header line (its first line must be the head it was exported at)',
      );
    }
    if (h.lastdayAuditExport !== AUDIT_EXPORT_VERSION) {
      return this.fail(1, `unknown export format version ${JSON.stringify(h.lastdayAuditExport)}`);
    }
    const seq = h.head?.seq;
    if (typeof h.head?.hash !== 'string' || !(seq === null || (Number.isSafeInteger(seq) && seq! >= 0))) {
      return this.fail(1, 'the header line has no readable head');
    }
    this.header = h as AuditExportHeader;
    return true;
  }

  private takeEntry(value: unknown): boolean {
    const e = value as Record<string, unknown> | null;
    const n = this.expected;
    if (!e || typeof e !== 'object' || typeof e.seq !== 'number') {
      return this.fail(n, `line ${this.lineNo} is not an entry (where entry ${n} belongs)`);
    }
    if (e.seq !== n) {
      return e.seq > n
        ? this.fail(n, `entry ${n} is missing (the next line is entry ${e.seq})`)
        : this.fail(n, `entry ${e.seq} appears where entry ${n} belongs (repeated or out of order)`);
    }
    if (e.prevHash !== this.prev) return this.fail(n, `entry ${n}: prevHash mismatch`);
    const details = detailsTextOf(e);
    if (details === undefined) return this.fail(n, `entry ${n}: details differ from detailsText`);
    const fields = [e.at, e.type, e.actor, e.personId ?? '', e.actionId ?? ''];
    if (!fields.every((f) => typeof f === 'string')) {
      return this.fail(n, `entry ${n}: at, type, actor, personId and actionId must be strings`);
    }
    const [at, type, actor, personId, actionId] = fields as string[];
    const content = contentHash({
      at: at!,
      type: type!,
      actor: actor!,
      personId: personId!,
      actionId: actionId!,
      details,
    });
    if (e.hash === this.hasher.link(this.prev, n, content)) {
      this.keyedSeen ||= this.hasher.keyed;
    } else if (!(this.hasher.keyed && !this.keyedSeen && e.hash === UNKEYED.link(this.prev, n, content))) {
      return this.fail(n, `entry ${n}: hash mismatch${this.keyHint()}`);
    }
    this.prev = e.hash as string;
    if (this.expectedHead?.seq === n) this.seen = { seq: n, hash: this.prev };
    this.expected++;
    return true;
  }

  finish(): ExportVerifyResult {
    const walked = this.expected - 1;
    const exportHead = this.header ? { seq: this.header.head.seq, hash: this.header.head.hash } : null;
    if (!this.broken) this.checkEnd(walked);
    const ok = this.broken === undefined;
    const verified = ok ? walked : Math.max(0, this.broken!.at - 1);
    const result: ExportVerifyResult = {
      ok,
      entries: verified,
      head: { seq: walked, hash: this.prev },
      exportHead,
      ...(this.broken ? { brokenAt: this.broken.at, reason: this.broken.reason } : {}),
    };
    if (this.expectedHead) result.expected = this.compareExpected(walked);
    if (result.expected && !result.expected.ok) result.ok = false;
    return result;
  }

  private checkEnd(walked: number): void {
    if (!this.header) {
      this.fail(1, 'the export is empty: no header line');
      return;
    }
    const { head, streamEnd } = this.header;
    if (head.seq === null) {
      this.fail(walked + 1, 'the stored head was not a number when exported');
      return;
    }
    if (walked < head.seq) {
      this.fail(
        walked + 1,
        `the export ends at entry ${walked} but its head is entry ${head.seq} (lines removed at the end, or the export cut short)`,
      );
      return;
    }
    if (walked > head.seq) {
      this.fail(head.seq + 1, `the export holds entries beyond its head (entry ${head.seq})`);
      return;
    }
    if (this.prev !== head.hash) {
      this.fail(
        walked,
        walked === 0
          ? 'the chain is empty but its head hash is not GENESIS'
          : `entry ${walked}'s hash is not the head hash`,
      );
      return;
    }
    if (streamEnd !== null && streamEnd !== undefined && streamEnd !== `${head.seq}-0`) {
      this.fail(
        walked + 1,
        `the stream held entry ${streamEnd} beyond the stored head (entry ${head.seq}) when exported`,
      );
      return;
    }
    if (this.hasher.keyed && walked > 0 && !this.keyedSeen) {
      this.fail(walked, 'no entry is keyed: the chain was not written under this key');
    }
  }

  private compareExpected(walked: number): ExpectedHead & { ok: boolean; reason?: string } {
    const want = this.expectedHead!;
    if (this.seen) {
      return this.seen.hash === want.hash
        ? { ...want, ok: true }
        : {
            ...want,
            ok: false,
            reason: `entry ${want.seq} has hash ${this.seen.hash} in the export, not the expected one`,
          };
    }
    if (want.seq === 0) {
      return want.hash === GENESIS
        ? { ...want, ok: true }
        : { ...want, ok: false, reason: 'seq 0 has the GENESIS hash only' };
    }
    return {
      ...want,
      ok: false,
      reason:
        want.seq > walked && !this.broken
          ? `the export ends at entry ${walked}, before the expected head (entry ${want.seq}): the chain was cut back`
          : `entry ${want.seq} was not verified (the chain breaks before it)`,
    };
  }

  private keyHint(): string {
    if (this.hasher.keyed || !this.header?.keyed) return '';
    return ' (the export says it was written under LASTDAY_AUDIT_KEY: give the key)';
  }

  private fail(at: number, reason: string): false {
    this.broken ??= { at, reason };
    return false;
  }
}

/** The details text that was hashed: `detailsText` if present (checked against `details`), else re-serialised. */
function detailsTextOf(e: Record<string, unknown>): string | undefined {
  if (e.detailsText === undefined) return JSON.stringify(e.details ?? {});
  if (typeof e.detailsText !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(e.detailsText);
  } catch {
    parsed = { unparsable: e.detailsText };
  }
  return JSON.stringify(parsed) === JSON.stringify(e.details) ? e.detailsText : undefined;
}

/** `SEQ:HASH` (as the `audit head` log line and metrics give them). */
export function parseExpectedHead(text: string): ExpectedHead | undefined {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(text.trim().toLowerCase());
  if (!m || !Number.isSafeInteger(Number(m[1]))) return undefined;
  return { seq: Number(m[1]), hash: m[2]! };
}
