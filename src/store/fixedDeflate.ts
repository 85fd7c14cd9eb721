/**
 * A raw deflate encoder (RFC 1951) for short texts against a preset
 * dictionary: one final block with the fixed Huffman codes, greedy LZ77
 * matches found through hash chains of the dictionary built once. Its output
 * is ordinary raw deflate: zlib's inflate with the same dictionary and window
 * reads it (auditStored.ts does), as it reads zlib's own.
 *
 * Why not zlib: `deflateRawSync` sets up a stream, allocates the compressor's
 * state and hashes the whole dictionary again for every call — for an audit
 * entry of ~600 bytes that was the largest single cost of appending it (30–60
 * µs in the ingest bench), while short texts mostly come out as fixed-code
 * blocks anyway.
 */

/** Candidates are found by the 4 bytes at a position (fewer false ones than 3); a match needs 3. */
const HASH_BITS = 11;
const HASHED = 4;
const HASH_SIZE = 1 << HASH_BITS;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
/** Candidates looked at per position: enough for these texts, bounded time. */
const MAX_CHAIN = 16;
/** A match this long is taken without looking further. */
const NICE_MATCH = 48;
/** Matches up to this long have every position hashed (see deflate). */
const MAX_INSERT = 4;

function hash4(b: Uint8Array, i: number): number {
  return (
    Math.imul((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!, 0x9e3779b1) >>>
    (32 - HASH_BITS)
  );
}

// Fixed Huffman codes (RFC 1951, 3.2.6), bit-reversed: deflate packs codes
// most significant bit first into a stream filled from the least significant bit.
function reversed(code: number, bits: number): number {
  let out = 0;
  for (let i = 0; i < bits; i++) out |= ((code >> i) & 1) << (bits - 1 - i);
  return out;
}

const LITLEN_CODE = new Uint16Array(288);
const LITLEN_BITS = new Uint8Array(288);
for (let s = 0; s < 288; s++) {
  const [base, first, bits] =
    s < 144 ? [0x30, 0, 8] : s < 256 ? [0x190, 144, 9] : s < 280 ? [0, 256, 7] : [0xc0, 280, 8];
  LITLEN_CODE[s] = reversed(base + s - first, bits);
  LITLEN_BITS[s] = bits;
}

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];

/** Length 3–258 → its symbol's index in LENGTH_BASE. */
const LENGTH_INDEX = new Uint8Array(MAX_MATCH + 1);
for (let i = 0; i < LENGTH_BASE.length; i++) {
  const end = i + 1 < LENGTH_BASE.length ? LENGTH_BASE[i + 1]! : MAX_MATCH + 1;
  for (let len = LENGTH_BASE[i]!; len < end; len++) LENGTH_INDEX[len] = i;
}
LENGTH_INDEX[MAX_MATCH] = LENGTH_BASE.length - 1;

function distanceIndex(d: number): number {
  let i = 0;
  while (i + 1 < DIST_BASE.length && DIST_BASE[i + 1]! <= d) i++;
  return i;
}

export interface FixedDeflater {
  /** Raw deflate of `input`, inflatable with the dictionary and a window of 2^windowBits. */
  deflate(input: Uint8Array): Uint8Array;
}

/**
 * An encoder for `dictionary` and a window of 2^windowBits bytes (the
 * inflater's `windowBits`): no match reaches further back than the window.
 */
export function fixedDeflater(dictionary: Uint8Array, windowBits: number): FixedDeflater {
  const dict = dictionary.subarray(Math.max(0, dictionary.length - (1 << windowBits)));
  const maxDistance = 1 << windowBits;
  // Hash chains of the dictionary, built once: head per hash, previous per position.
  const dictHead = new Int32Array(HASH_SIZE).fill(-1);
  const dictPrev = new Int32Array(dict.length);
  for (let i = 0; i + HASHED <= dict.length; i++) {
    const h = hash4(dict, i);
    dictPrev[i] = dictHead[h]!;
    dictHead[h] = i;
  }
  // The input's own chains, reused call to call: an entry counts only in its call's generation.
  const inHead = new Int32Array(HASH_SIZE);
  const inGen = new Uint32Array(HASH_SIZE);
  let inPrev = new Int32Array(1024);
  let generation = 0;

  /** Common length of dict/input at `from` (absolute: the dictionary, then the input) and input at `at`. */
  function matchLength(input: Uint8Array, from: number, at: number, limit: number): number {
    let n = 0;
    // In the dictionary, then on into the input (a match may run across).
    for (let d = from; d < dict.length && n < limit; d++, n++) if (dict[d] !== input[at + n]) return n;
    for (let j = from + n - dict.length; n < limit; j++, n++) if (input[j] !== input[at + n]) return n;
    return n;
  }

  /** The byte at `at` of the dictionary followed by the input. */
  function byteAt(input: Uint8Array, at: number): number | undefined {
    return at < dict.length ? dict[at] : input[at - dict.length];
  }

  return {
    deflate(input: Uint8Array): Uint8Array {
      generation = (generation + 1) >>> 0;
      if (generation === 0) {
        inGen.fill(0);
        generation = 1;
      }
      if (inPrev.length < input.length) inPrev = new Int32Array(input.length * 2);
      // Fixed codes take at most 9 bits a literal; a match is never longer than its literals.
      const out = new Uint8Array(Math.ceil((input.length * 9 + 10) / 8) + 2);
      let pos = 0;
      let acc = 0;
      let nbits = 0;
      const put = (value: number, bits: number) => {
        acc |= value << nbits;
        nbits += bits;
        while (nbits >= 8) {
          out[pos++] = acc & 0xff;
          acc >>>= 8;
          nbits -= 8;
        }
      };
      put(1, 1); // BFINAL
      put(1, 2); // BTYPE 01: fixed codes

      const insert = (i: number) => {
        const h = hash4(input, i);
        inPrev[i] = inGen[h] === generation ? inHead[h]! : -1;
        inHead[h] = i;
        inGen[h] = generation;
      };

      let i = 0;
      while (i < input.length) {
        let bestLen = 0;
        let bestFrom = 0;
        const limit = Math.min(MAX_MATCH, input.length - i);
        if (limit >= HASHED) {
          const h = hash4(input, i);
          const here = dict.length + i;
          let chain = MAX_CHAIN;
          // Earlier in the input first (nearer), then the dictionary.
          for (let c = inGen[h] === generation ? inHead[h]! : -1; c >= 0 && chain-- > 0; c = inPrev[c]!) {
            if (here - (dict.length + c) > maxDistance) break;
            // Only a candidate that also matches at bestLen can be longer (zlib's test).
            if (bestLen > 0 && input[c + bestLen] !== input[i + bestLen]) continue;
            const len = matchLength(input, dict.length + c, i, limit);
            if (len > bestLen) {
              bestLen = len;
              bestFrom = dict.length + c;
              if (len >= NICE_MATCH || len === limit) break;
            }
          }
          for (
            let c = dictHead[h]!;
            c >= 0 && chain-- > 0 && bestLen < NICE_MATCH && bestLen < limit;
            c = dictPrev[c]!
          ) {
            if (here - c > maxDistance) break;
            if (bestLen > 0 && byteAt(input, c + bestLen) !== input[i + bestLen]) continue;
            const len = matchLength(input, c, i, limit);
            if (len > bestLen) {
              bestLen = len;
              bestFrom = c;
            }
          }
        }
        if (bestLen >= MIN_MATCH) {
          const li = LENGTH_INDEX[bestLen]!;
          const sym = 257 + li;
          put(LITLEN_CODE[sym]!, LITLEN_BITS[sym]!);
          if (LENGTH_EXTRA[li]! > 0) put(bestLen - LENGTH_BASE[li]!, LENGTH_EXTRA[li]!);
          const distance = dict.length + i - bestFrom;
          const di = distanceIndex(distance);
          put(reversed(di, 5), 5);
          if (DIST_EXTRA[di]! > 0) put(distance - DIST_BASE[di]!, DIST_EXTRA[di]!);
          const end = i + bestLen;
          // Positions inside a long match are not hashed (zlib's max_insert_length
          // at its fast levels): later text finds such a stretch in the dictionary
          // or from the match's start; hashing each of its bytes was a third of the time.
          if (bestLen <= MAX_INSERT) {
            for (; i < end; i++) if (i + HASHED <= input.length) insert(i);
          } else {
            if (i + HASHED <= input.length) insert(i);
            i = end;
          }
        } else {
          put(LITLEN_CODE[input[i]!]!, LITLEN_BITS[input[i]!]!);
          if (i + HASHED <= input.length) insert(i);
          i++;
        }
      }
      put(LITLEN_CODE[256]!, LITLEN_BITS[256]!); // end of block
      if (nbits > 0) out[pos++] = acc & 0xff;
      return out.subarray(0, pos);
    },
  };
}
