/**
 * How an audit entry's fields are stored in the stream, which is not what is
 * hashed: the chain hashes the entry's content (auditHash.ts), and every
 * reader of the stream goes through `fieldMap`, which gives that content back
 * byte for byte. Only the stream is smaller; the API, exports and the hash
 * formula do not change.
 *
 * - `at`: epoch milliseconds (digits, which Redis keeps as an integer in the
 *   stream's listpack: 9 bytes instead of 25) when `toISOString` of that
 *   number is exactly the text; else the text.
 * - `details`: `~1` + base64url of the JSON text deflated (raw, RFC 1951)
 *   against DETAILS_DICTIONARY (a typical `hr_event.applied` entry: ~575
 *   characters become ~80). Details are always a JSON object's text, which
 *   starts with `{`, so the two forms cannot mix; entries stored before this
 *   form read as they are.
 *
 * DETAILS_DICTIONARY is part of the stored format: entries written with `~1`
 * need exactly this text to be read. Never edit it; a better one is `~2`.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { fixedDeflater } from './fixedDeflate.ts';

const DETAILS_PREFIX = '~1';

/** Frequent text of details objects, the most frequent last (deflate reaches it more cheaply). */
const DETAILS_DICTIONARY = Buffer.from(
  [
    '{"connector":"directory","state":"done","cycle":1,"groups":[],"error":"","reason":"","actionId":"","kind":"","target":"","approvedBy":"","requestedBy":"","from":"","to":"","count":0}',
    '{"milestone":"revoke","dueAt":"2026-01-01T00:00:00Z","actionableAt":"2026-01-01T00:00:00Z","lateMs":0,"hrLateMs":0,"planVersion":1}',
    '{"eventId":"","type":"contract.terminated","occurredAt":"2026-01-01T00:00:00.000Z","reason":"","planVersion":2,"lastDay":"2026-01-01","endsAt":"2026-01-01T00:00:00Z","milestones":[{"name":"reduce","dueAt":"2026-01-01T00:00:00Z","state":"cancelled"},{"name":"revoke","dueAt":"2026-01-01T00:00:00Z","state":"done"}],"restoreGrants":true,"unfreeze":true}',
    '{"eventId":"","type":"offboarding.cancelled","occurredAt":"2026-01-01T00:00:00.000Z","planVersion":1,"lastDay":"2026-01-01","endsAt":"2026-01-01T00:00:00Z","milestones":[{"name":"notice","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},{"name":"reduce","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},{"name":"freeze","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},{"name":"revoke","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},{"name":"verify","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"}],"restoreGrants":false,"unfreeze":false}',
    '{"eventId":"","type":"contract.ending","occurredAt":"2026-01-01T00:00:00.000Z","planVersion":1,"lastDay":"2026-01-01","endsAt":"2026-01-01T00:00:00Z","milestones":[{"name":"notice","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},{"name":"reduce","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},{"name":"freeze","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},{"name":"revoke","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},{"name":"verify","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"}],"restoreGrants":false,"unfreeze":false}',
  ].join(''),
  'utf8',
);
/** Small windows keep deflate's setup cheap; the window must hold the dictionary's useful tail. */
const DEFLATE = {
  dictionary: DETAILS_DICTIONARY,
  level: 9,
  memLevel: 2,
  windowBits: 12,
  // The output buffer, allocated per call: 16 KB by default, a fresh allocation
  // each time; a packed entry is ~100 bytes (a longer one takes more chunks).
  chunkSize: 512,
} as const;
const INFLATE = { dictionary: DETAILS_DICTIONARY, windowBits: 12 } as const;

/**
 * Details up to this many bytes (nearly all: an applied event's are ~600) are
 * deflated by our own encoder (fixedDeflate.ts: fixed codes, the dictionary's
 * hash chains built once), longer ones by zlib; both give raw deflate that
 * `entryDetails` inflates the same way.
 */
const FIXED_UP_TO = 2048;
const FIXED = fixedDeflater(DETAILS_DICTIONARY, DEFLATE.windowBits);

/** Details shorter than this are stored as they are (`{}` and the like). */
const DEFLATE_FROM = 48;

/** `at` as the stream stores it. */
export function storedAt(at: string): string {
  const ms = Date.parse(at);
  return Number.isSafeInteger(ms) && ms >= 0 && new Date(ms).toISOString() === at ? String(ms) : at;
}

/** The details' JSON text as the stream stores it. */
export function storedDetails(details: string): string {
  if (details.length < DEFLATE_FROM || !details.startsWith('{')) return details;
  const text = Buffer.from(details, 'utf8');
  const deflated = text.length <= FIXED_UP_TO ? FIXED.deflate(text) : deflateRawSync(text, DEFLATE);
  const packed =
    DETAILS_PREFIX + Buffer.from(deflated.buffer, deflated.byteOffset, deflated.length).toString('base64url');
  return packed.length < details.length ? packed : details;
}

/** The stream's `at` field back as the entry's text. */
export function entryAt(stored: string): string {
  return /^\d{1,15}$/.test(stored) ? new Date(Number(stored)).toISOString() : stored;
}

/**
 * The stream's `details` field back as the JSON text that was hashed. A
 * packed field that does not inflate (altered in Redis) is given back as
 * stored: its hash then fails to verify, as any altered entry's does.
 */
export function entryDetails(stored: string): string {
  if (!stored.startsWith(DETAILS_PREFIX)) return stored;
  try {
    const packed = Buffer.from(stored.slice(DETAILS_PREFIX.length), 'base64url');
    return inflateRawSync(packed, INFLATE).toString('utf8');
  } catch {
    return stored;
  }
}
