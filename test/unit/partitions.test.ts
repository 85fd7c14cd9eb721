/** The partition function and the choice of hash tags (src/store/partitions.ts), without Redis. */
import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { jumpHash, PartitionCountError, partitionOf, planPrefixes } from '../../src/store/partitions.ts';

/** The slot ranges `redis-cli --cluster create` gives three masters. */
const threeMasters = (slot: number) => (slot <= 5460 ? 'a' : slot <= 10922 ? 'b' : 'c');

describe('partitions', () => {
  it('jump hash matches the reference values and stays in range', () => {
    // Reference: Lamping & Veach's C++ implementation, key 0 and key 1 over 1 … 3 buckets.
    expect([1, 2, 3].map((n) => jumpHash(0n, n))).toEqual([0, 0, 0]);
    for (let k = 0n; k < 200n; k++) {
      const b = jumpHash(k * 0x9e3779b97f4a7c15n, 7);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(7);
    }
  });

  it('a person keeps a partition; growing from N to M moves about (M-N)/M of them, only to new ones', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `person-${i}@example.com`);
    expect(partitionOf('x', 1)).toBe(0);
    expect(ids.map((id) => partitionOf(id, 16))).toEqual(ids.map((id) => partitionOf(id, 16)));
    const moved = ids.filter((id) => partitionOf(id, 4) !== partitionOf(id, 5));
    expect(moved.length / ids.length).toBeGreaterThan(0.15);
    expect(moved.length / ids.length).toBeLessThan(0.25);
    for (const id of moved) expect(partitionOf(id, 5)).toBe(4);
    const counts = new Array(16).fill(0);
    for (const id of ids) counts[partitionOf(id, 16)]++;
    expect(Math.max(...counts) / Math.min(...counts)).toBeLessThan(1.5);
  });

  it('keeps the plain prefix for one partition and numbers them on a single Redis', () => {
    expect(planPrefixes('lastday', 1)).toEqual(['lastday']);
    expect(planPrefixes('{lastday}', 1)).toEqual(['{lastday}']);
    expect(planPrefixes('lastday', 3)).toEqual(['lastday:0', 'lastday:1', 'lastday:2']);
  });

  it('plain tags land 4/4/8 on three masters; the chosen ones evenly, each starting with {<prefix>', () => {
    const plain = new Map<string, number>();
    for (let p = 0; p < 16; p++) {
      const m = threeMasters(calculateSlot(`lastday:${p}`));
      plain.set(m, (plain.get(m) ?? 0) + 1);
    }
    expect([...plain.values()].sort()).toEqual([4, 4, 8]);
    for (const count of [3, 12, 16, 32]) {
      const prefixes = planPrefixes('{lastday}', count, threeMasters);
      expect(new Set(prefixes).size).toBe(count);
      const per = new Map<string, number>();
      for (const [p, prefix] of prefixes.entries()) {
        expect(prefix.startsWith(`{lastday:${p}`)).toBe(true);
        expect(prefix.endsWith('}')).toBe(true);
        const m = threeMasters(calculateSlot(`${prefix}:person:x`));
        per.set(m, (per.get(m) ?? 0) + 1);
      }
      expect(per.size).toBe(3);
      expect(Math.max(...per.values()) - Math.min(...per.values())).toBeLessThanOrEqual(1);
    }
  });

  it('names the command to run when the count differs', () => {
    expect(new PartitionCountError(16, 8).message).toBe(
      'LASTDAY_PARTITIONS=16 but this Redis holds 8 partitions; run "lastday partitions move --to 16" with the workers stopped first, or start with LASTDAY_PARTITIONS=8',
    );
  });
});
