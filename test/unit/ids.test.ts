/** Id encoding for keys and job ids: plain ids stay readable, everything else is escaped, injectively. */
import { describe, expect, it } from 'vitest';
import { decodeId, encodeId } from '../../src/domain/ids.ts';

/** The encoding without the plain-id shortcut, as it was written first. */
function fullEncoding(id: string): string {
  return encodeURIComponent(id).replace(
    /[.!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

describe('encodeId', () => {
  it.each([
    ['c-1042', 'c-1042'],
    ['g_7', 'g_7'],
    ['', ''],
    ['a:b', 'a%3Ab'],
    ['a/b', 'a%2Fb'],
    ['a.b', 'a%2Eb'],
    ["x!'()*~", 'x%21%27%28%29%2A%7E'],
    ['jürgen', 'j%C3%BCrgen'],
    ['a%3Ab', 'a%253Ab'],
  ])('%j → %j', (id, encoded) => {
    expect(encodeId(id)).toBe(encoded);
    expect(decodeId(encoded)).toBe(id);
  });

  it('answers as the full encoding for every character of the first planes', () => {
    for (let cp = 0; cp < 0x3000; cp++) {
      if (cp >= 0xd800 && cp < 0xe000) continue;
      const id = `p${String.fromCharCode(cp)}q`;
      expect(encodeId(id)).toBe(fullEncoding(id));
    }
  });

  it('leaves no separator in an encoded id', () => {
    expect(encodeId('a:b.c/d')).not.toMatch(/[:./]/);
  });
});
