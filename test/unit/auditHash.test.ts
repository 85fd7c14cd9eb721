/**
 * The chain's formula (src/store/auditHash.ts) against hashes made elsewhere:
 * a chain written by the old Lua SHA-256, and HMACs computed with Python. An
 * outside tool that follows the documented formula gets these same bytes.
 */
import { describe, expect, it } from 'vitest';
import { chainHasher, contentHash, fieldMap, GENESIS, storedContent } from '../../src/store/auditHash.ts';
import { LEGACY_ENTRIES, LEGACY_HMAC_HASHES, LEGACY_KEY } from '../helpers/legacyAuditChain.ts';

describe('audit chain formula', () => {
  it('reproduces the hashes the Lua SHA-256 wrote, without a key', () => {
    const hasher = chainHasher();
    let prev = GENESIS;
    for (const [id, fields] of LEGACY_ENTRIES) {
      const f = fieldMap(fields);
      const seq = Number(id.split('-')[0]);
      expect(f.prevHash).toBe(prev);
      expect(hasher.link(prev, seq, contentHash(storedContent(f)))).toBe(f.hash);
      prev = f.hash!;
    }
    expect(hasher.keyed).toBe(false);
  });

  it('under a key, is HMAC-SHA-256 of the same message', () => {
    const hasher = chainHasher(LEGACY_KEY);
    let prev = GENESIS;
    LEGACY_ENTRIES.forEach(([, fields], i) => {
      const hash = hasher.link(prev, i + 1, contentHash(storedContent(fieldMap(fields))));
      expect(hash).toBe(LEGACY_HMAC_HASHES[i]);
      prev = hash;
    });
    expect(hasher.keyed).toBe(true);
    // Another key, another chain.
    expect(chainHasher(`${LEGACY_KEY}!`).link(GENESIS, 1, GENESIS)).not.toBe(
      hasher.link(GENESIS, 1, GENESIS),
    );
  });

  it('keeps the key out of anything that prints the hasher', () => {
    const hasher = chainHasher(LEGACY_KEY);
    expect(JSON.stringify(hasher)).not.toContain(LEGACY_KEY);
    expect(String(Object.values(hasher))).not.toContain(LEGACY_KEY);
  });
});
