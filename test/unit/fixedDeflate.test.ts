/**
 * Our raw deflate encoder (src/store/fixedDeflate.ts) against zlib's inflate,
 * the reader of every stored audit entry: whatever the text, inflating with
 * the same dictionary and window gives back exactly its bytes — matches into
 * the dictionary, across its end into the text, overlapping runs, the longest
 * matches and lengths of every size — and a typical entry stays as small as
 * zlib made it.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fixedDeflater } from '../../src/store/fixedDeflate.ts';

/** A deterministic generator, so a failure names its case. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

const dictionary = Buffer.from(
  '{"eventId":"","type":"contract.ending","occurredAt":"2026-01-01T00:00:00.000Z","planVersion":1,' +
    '"milestones":[{"name":"notice","dueAt":"2026-01-01T00:00:00Z","state":"scheduled"},' +
    '{"name":"revoke","dueAt":"2026-01-01T00:00:00Z","state":"done"}],"restoreGrants":false}',
);

function roundTrip(dict: Buffer, windowBits: number, text: Buffer): Buffer {
  const packed = fixedDeflater(dict, windowBits).deflate(text);
  return inflateRawSync(packed, { dictionary: dict, windowBits });
}

describe('fixedDeflater', () => {
  it('gives back every text exactly through zlib inflate', () => {
    const random = prng(1);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const pieces = [
      '{"name":"notice","dueAt":"2026-01-',
      '","state":"scheduled"}',
      'ü😀\n\t\\"',
      'x'.repeat(300),
      String(random()),
      '{"eventId":"bench-',
    ];
    const texts: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('a'),
      Buffer.from('abc'),
      Buffer.from('abcd'),
      Buffer.from(dictionary.toString()),
      Buffer.from(dictionary.toString().repeat(2)),
      Buffer.from('y'.repeat(2000)),
      Buffer.from('ab'.repeat(700)),
    ];
    for (let n = 0; n < 600; n++) {
      const parts: string[] = [];
      const count = Math.floor(random() * 30);
      for (let k = 0; k < count; k++) {
        parts.push(
          random() < 0.5
            ? pick(pieces)
            : String.fromCharCode(
                ...Array.from({ length: Math.floor(random() * 40) }, () => 32 + Math.floor(random() * 95)),
              ),
        );
      }
      texts.push(Buffer.from(parts.join('')));
    }
    for (let n = 0; n < 50; n++) {
      texts.push(
        Buffer.from(Array.from({ length: Math.floor(random() * 3000) }, () => Math.floor(random() * 256))),
      );
    }
    for (const text of texts) expect(roundTrip(dictionary, 12, text).equals(text)).toBe(true);
    // No dictionary, a small window: matches never reach past it.
    for (const text of texts.slice(0, 200))
      expect(roundTrip(Buffer.alloc(0), 9, text).equals(text)).toBe(true);
    // One encoder used again and again (its tables carry over between calls).
    const encoder = fixedDeflater(dictionary, 12);
    for (const text of texts) {
      const back = inflateRawSync(encoder.deflate(text), { dictionary, windowBits: 12 });
      expect(back.equals(text)).toBe(true);
    }
  });

  it('keeps a typical entry about as small as zlib at level 9', () => {
    const entry = Buffer.from(
      JSON.stringify({
        eventId: 'bench-ing-1234-1a2b3c4d',
        type: 'contract.ending',
        occurredAt: '2026-12-01T11:19:47.872Z',
        planVersion: 1,
        milestones: ['notice', 'revoke'].map((name, i) => ({
          name,
          dueAt: `2027-01-1${i}T09:00:00Z`,
          state: 'scheduled',
        })),
        restoreGrants: false,
      }),
    );
    const ours = fixedDeflater(dictionary, 12).deflate(entry).length;
    const zlib = deflateRawSync(entry, { dictionary, level: 9, windowBits: 12 }).length;
    expect(ours).toBeLessThanOrEqual(zlib + 8);
    expect(ours).toBeLessThan(entry.length / 4);
  });
});
