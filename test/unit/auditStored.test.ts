/**
 * How the audit stream stores `at` and `details` (src/store/auditStored.ts):
 * every reader gets back exactly the text that was hashed, whatever it is,
 * and a typical applied event's details take a fraction of their length.
 */
import { describe, expect, it } from 'vitest';
import { contentHash, fieldMap } from '../../src/store/auditHash.ts';
import { entryAt, entryDetails, storedAt, storedDetails } from '../../src/store/auditStored.ts';
import { LEGACY_ENTRIES } from '../helpers/legacyAuditChain.ts';

const applied = JSON.stringify({
  eventId: 'bench-later-12345-702e1233',
  type: 'contract.ending',
  occurredAt: '2026-12-01T09:20:55.448Z',
  planVersion: 1,
  lastDay: '2027-01-15',
  endsAt: '2027-01-15T17:00:00Z',
  milestones: ['notice', 'reduce', 'freeze', 'revoke', 'verify'].map((name, i) => ({
    name,
    dueAt: `2027-01-1${i}T09:00:00Z`,
    state: 'scheduled',
  })),
  restoreGrants: false,
  unfreeze: false,
});

describe('audit entries as stored', () => {
  it('gives back every details text exactly', () => {
    const texts = [
      applied,
      '{}',
      '{"i":1}',
      JSON.stringify({ reason: 'quote " backslash \\ newline \n tab \t nul \u0000 ü 😀'.repeat(5) }),
      // A lone surrogate is stored as U+FFFD, as Redis would store the text itself.
      JSON.stringify({ reason: `lone \ud800 surrogate ${'x'.repeat(60)}` }),
      `{"x": 1,   "spaced": "as another writer spelled it", "n": 1.50}`,
      JSON.stringify({ big: 'y'.repeat(20_000) }),
    ];
    for (const text of texts) {
      const asStored = Buffer.from(text, 'utf8').toString('utf8');
      expect(entryDetails(storedDetails(text))).toBe(asStored);
    }
    expect(storedDetails('{}')).toBe('{}');
    expect(storedDetails(applied).length).toBeLessThan(applied.length / 3);
  });

  it('keeps `at` as epoch ms only when that gives back the same text', () => {
    expect(storedAt('2026-12-01T09:20:55.448Z')).toBe(String(Date.parse('2026-12-01T09:20:55.448Z')));
    for (const at of [
      '2026-12-01T09:20:55.448Z',
      '2026-12-01T09:20:55Z',
      '2026-12-01T10:20:55.448+01:00',
      '1969-12-31T23:59:59.999Z',
      'not a date',
      '',
    ]) {
      expect(entryAt(storedAt(at))).toBe(at);
    }
  });

  it('reads entries stored before, field for field, and hashes them as before', () => {
    for (const [, fields] of LEGACY_ENTRIES) {
      const raw: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) raw[fields[i]!] = fields[i + 1]!;
      const f = fieldMap(fields);
      expect(f.at).toBe(raw.at);
      expect(f.details).toBe(raw.details);
    }
  });

  it('gives a packed field that does not inflate back as stored, so it fails to verify', () => {
    const garbled = `${storedDetails(applied).slice(0, 10)}!!`;
    expect(entryDetails(garbled)).toBe(garbled);
    const content = { at: '', type: '', actor: '', personId: '', actionId: '' };
    expect(contentHash({ ...content, details: entryDetails(garbled) })).not.toBe(
      contentHash({ ...content, details: applied }),
    );
  });
});
