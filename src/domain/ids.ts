/**
 * Encoding of external identifiers (person ids, event ids, action ids) for use
 * inside Redis keys and BullMQ job ids.
 *
 * Person ids are arbitrary strings (`:` and `/` included). BullMQ refuses job ids
 * containing `:`, and our keys use `:` and `.` as separators, so an id is
 * percent-encoded and `.` is escaped too. The encoding is injective, so two
 * different ids can never share a key, and stays readable for plain ids
 * (`c-1042` stays `c-1042`).
 */
const PLAIN_ID = /^[A-Za-z0-9_-]*$/;

export function encodeId(id: string): string {
  // Letters, digits, `-` and `_` encode to themselves: most ids, and every
  // gate request builds a key from one, so they skip the encoder.
  if (PLAIN_ID.test(id)) return id;
  return encodeURIComponent(id).replace(
    /[.!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

export function decodeId(encoded: string): string {
  return decodeURIComponent(encoded);
}

/**
 * Whether `id` is well-formed Unicode: no lone UTF-16 surrogate. Ids are
 * percent-encoded into keys, and encodeURIComponent throws on a lone surrogate,
 * so such an id could be accepted and then fail every job that touches it.
 */
export function isWellFormedId(id: string): boolean {
  return !/\p{Cs}/u.test(id);
}

/**
 * The prefix on Redis Cluster: hash-tagged, `{<prefix>}`, so every key starts
 * with `{<prefix>` and hashes to one slot. A prefix that already starts with a
 * tag (`{lastday}`) is kept as it is.
 */
export function clusterPrefix(prefix: string): string {
  return /^\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}
