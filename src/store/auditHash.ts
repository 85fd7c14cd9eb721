/**
 * The audit chain's definition: exactly which bytes are hashed, so lastday and
 * an outside tool verifying an export compute the same hashes.
 *
 * For the entry with sequence number `seq` (1, 2, 3, … with no gaps):
 *
 *   content = JSON.stringify([at, type, actor, personId, actionId, details])
 *   contentHash = hex(SHA-256(utf8(content)))
 *   hash = hex(SHA-256(utf8(prevHash + "|" + seq + "|" + contentHash)))          (no key)
 *   hash = hex(HMAC-SHA-256(utf8(LASTDAY_AUDIT_KEY), same message))              (keyed)
 *
 * - `at`, `type`, `actor` are the entry's strings; `personId` and `actionId` are
 *   `""` when absent; `details` is the JSON *text* of the details object as
 *   the appender wrote it (what `fieldMap` gives back from the stream, which
 *   stores `at` and `details` more compactly: auditStored.ts; from the HTTP
 *   export, re-serialise the object compactly in its key order, as
 *   JSON.stringify does).
 * - JSON.stringify of an array of strings: no whitespace, only `"`, `\` and
 *   U+0000–U+001F escaped (`\b \t \n \f \r`, else `\u00xx` in lower-case hex);
 *   Python's `json.dumps(x, ensure_ascii=False, separators=(",", ":"))` agrees.
 * - Strings are hashed as stored (UTF-8): a lone UTF-16 surrogate, which UTF-8
 *   cannot carry, is U+FFFD on both sides.
 * - `seq` is written in decimal; `prevHash` of entry 1 is GENESIS (64 zeros),
 *   else the previous entry's `hash`. All hex is lower-case.
 *
 * This is the formula the Lua SHA-256 of earlier versions used, so chains
 * written by them verify unchanged without a key. Under a key, a chain may
 * start with such unkeyed entries (written before the key was set); see
 * auditVerify.ts for how the two are told apart.
 */
import { createHmac, hash } from 'node:crypto';
import { entryAt, entryDetails } from './auditStored.ts';

/** `prevHash` of the first entry of every chain. */
export const GENESIS = '0'.repeat(64);

/** An entry's content as stored: every field a string (see the module header). */
export interface EntryContent {
  at: string;
  type: string;
  actor: string;
  personId: string;
  actionId: string;
  /** The JSON text of the details object. */
  details: string;
}

export function contentHash(c: EntryContent): string {
  const fields = [c.at, c.type, c.actor, c.personId, c.actionId, c.details].map(asStored);
  return hash('sha256', JSON.stringify(fields), 'hex');
}

/**
 * A string as Redis gives it back: stored as UTF-8, where a lone surrogate
 * (say, from `"\ud800"` in a person id sent as JSON) becomes U+FFFD. Hashing
 * the stored form keeps such an entry verifiable. Text without surrogates
 * (nearly all) is its own stored form: only the rest takes the trip.
 */
function asStored(s: string): string {
  return SURROGATE.test(s) ? Buffer.from(s, 'utf8').toString('utf8') : s;
}

const SURROGATE = /[\ud800-\udfff]/;

/** Links an entry to its predecessor: the chain's one keyed or unkeyed step. */
export interface ChainHasher {
  /** True when hashes are HMACs under LASTDAY_AUDIT_KEY. */
  readonly keyed: boolean;
  link(prevHash: string, seq: number, contentHash: string): string;
}

/** The hasher for a key (HMAC-SHA-256), or plain SHA-256 without one. */
export function chainHasher(key?: string): ChainHasher {
  if (key === undefined) {
    return {
      keyed: false,
      link: (prev, seq, content) => hash('sha256', `${prev}|${seq}|${content}`, 'hex'),
    };
  }
  // Closed over, never a property: a logged or inspected hasher shows no key.
  const secret = Buffer.from(key, 'utf8');
  return {
    keyed: true,
    link: (prev, seq, content) =>
      createHmac('sha256', secret).update(`${prev}|${seq}|${content}`, 'utf8').digest('hex'),
  };
}

/**
 * An entry's hash as the stream stores it: the 32 bytes in base64url (43
 * characters) rather than 64 hex digits. Everything outside the stream (the
 * head key, the API, exports, the formula) uses hex; `fieldMap` converts back.
 * Stream nodes are allocated 4 KB at a time (Redis 7.0), so a few bytes less
 * per entry can mean one more entry per node.
 */
export function storedHash(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

const STORED_HASH = /^[A-Za-z0-9_-]{43}$/;

/**
 * A stream entry's fields (`[name, value, …]`) as a map, with `hash` in hex
 * whether it was stored in base64url or (entries of 0.1.0, hand-made ones) hex,
 * and `at` and `details` as the text that was hashed however the stream
 * stores them (auditStored.ts). Every reader of the stream goes through here.
 */
export function fieldMap(fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  if (out.hash !== undefined && STORED_HASH.test(out.hash)) {
    out.hash = Buffer.from(out.hash, 'base64url').toString('hex');
  }
  if (out.at !== undefined) out.at = entryAt(out.at);
  if (out.details !== undefined) out.details = entryDetails(out.details);
  return out;
}

/**
 * The `prevHash` of each of `rows` (stream rows in seq order): the stored
 * field where an entry has one (entries of earlier versions), else the hash of
 * the entry before it (the row before, or `before`, the stream's entry just
 * ahead of the first row), GENESIS for seq 1, and `""` when that entry is
 * missing. Entries are stored without it since it repeats the previous hash.
 */
export function prevHashes(
  rows: readonly [id: string, fields: string[]][],
  before?: [id: string, fields: string[]],
): string[] {
  let prior = before ? { seq: seqOf(before[0]), hash: fieldMap(before[1]).hash ?? '' } : undefined;
  return rows.map(([id, fields]) => {
    const f = fieldMap(fields);
    const seq = seqOf(id);
    const prev = f.prevHash ?? (seq === 1 ? GENESIS : prior?.seq === seq - 1 ? prior.hash : '');
    prior = { seq, hash: f.hash ?? '' };
    return prev;
  });
}

function seqOf(id: string): number {
  return Number(id.split('-')[0]);
}

/** The hashed content of a stored entry (absent fields as the writer stored them: `""`, details `{}`). */
export function storedContent(f: Record<string, string>): EntryContent {
  return {
    at: f.at ?? '',
    type: f.type ?? '',
    actor: f.actor ?? '',
    personId: f.personId ?? '',
    actionId: f.actionId ?? '',
    details: f.details ?? '{}',
  };
}
