/**
 * A bounded description of an input of any size or shape: its byte count, its
 * SHA-256, and a head of its text. Written for rejected HR events, which are
 * hostile by definition: `JSON.stringify` recurses and overflows the stack on
 * 20,000 nested arrays (a 40 KB body), so the JSON text is produced here by an
 * explicit stack instead, streamed into the hash, and only its head is kept.
 */
import { createHash } from 'node:crypto';

export interface InputDigest {
  /** UTF-8 bytes of the input's text (the body as received, or the value's JSON). */
  bytes: number;
  /** SHA-256 hex of those bytes: lets a sender match the entry to what it sent. */
  sha256: string;
  /** The first `maxBytes` bytes of the text, cut on a character boundary. */
  head: string;
  truncated: boolean;
}

/**
 * @param value the input as parsed
 * @param raw the exact text received, when there was one (an HTTP body); the
 *   digest is then taken over it rather than over `value`'s JSON
 */
export function digestInput(value: unknown, raw: string | undefined, maxBytes: number): InputDigest {
  const hash = createHash('sha256');
  let bytes = 0;
  let head = '';
  let headFull = false;
  const take = (chunk: string) => {
    hash.update(chunk, 'utf8');
    bytes += Buffer.byteLength(chunk, 'utf8');
    if (!headFull) {
      const joined = head + chunk;
      head = utf8Head(joined, maxBytes);
      headFull = head.length < joined.length;
    }
  };
  if (raw !== undefined) take(raw);
  else for (const chunk of jsonChunks(value)) take(chunk);
  return { bytes, sha256: hash.digest('hex'), head, truncated: headFull };
}

const encoder = new TextEncoder();

/** The longest prefix of `text` whose UTF-8 encoding fits `maxBytes` (never half a character). */
export function utf8Head(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const { read } = encoder.encodeInto(text.slice(0, maxBytes), new Uint8Array(maxBytes));
  return text.slice(0, read);
}

/** How deeply `value` nests arrays and objects, counted up to `limit + 1` at most. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > deepest) deepest = depth + 1;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

type Frame =
  | { kind: 'array'; items: readonly unknown[]; i: number }
  | { kind: 'object'; obj: Record<string, unknown>; keys: string[]; i: number; wrote: boolean };

/**
 * The JSON text of `value` in chunks, as `JSON.stringify` would write it for
 * JSON-shaped data (what HTTP bodies, files and queue job data parse to), with
 * an explicit stack so no depth overflows. A cycle is written as
 * `"[Circular]"`; a top-level `undefined` as nothing.
 */
export function* jsonChunks(value: unknown): Generator<string> {
  let out = '';
  const stack: Frame[] = [];
  const open = new Set<object>();
  const FLUSH = 8192;

  // Writes a scalar, or opens a container (pushing its frame); false when skipped.
  const emit = (raw: unknown, key: string, inArray: boolean): boolean => {
    let v = raw;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
    }
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') {
      if (!inArray) return false;
      out += 'null';
      return true;
    }
    if (typeof v === 'bigint') {
      out += `"${v}"`;
      return true;
    }
    if (v === null || typeof v !== 'object') {
      out += JSON.stringify(v);
      return true;
    }
    if (open.has(v)) {
      out += '"[Circular]"';
      return true;
    }
    open.add(v);
    if (Array.isArray(v)) {
      out += '[';
      stack.push({ kind: 'array', items: v, i: 0 });
    } else {
      out += '{';
      const obj = v as Record<string, unknown>;
      stack.push({ kind: 'object', obj, keys: Object.keys(obj), i: 0, wrote: false });
    }
    return true;
  };

  emit(value, '', false);
  while (stack.length > 0) {
    if (out.length >= FLUSH) {
      yield out;
      out = '';
    }
    const frame = stack[stack.length - 1]!;
    if (frame.kind === 'array') {
      if (frame.i >= frame.items.length) {
        out += ']';
        open.delete(frame.items);
        stack.pop();
        continue;
      }
      if (frame.i > 0) out += ',';
      const i = frame.i++;
      emit(frame.items[i], String(i), true);
    } else {
      if (frame.i >= frame.keys.length) {
        out += '}';
        open.delete(frame.obj);
        stack.pop();
        continue;
      }
      const key = frame.keys[frame.i++]!;
      const prefix = `${frame.wrote ? ',' : ''}${JSON.stringify(key)}:`;
      const mark = out.length;
      out += prefix;
      if (emit(frame.obj[key], key, false)) frame.wrote = true;
      else out = out.slice(0, mark);
    }
  }
  if (out.length > 0) yield out;
}
