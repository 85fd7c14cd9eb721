import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/domain/csv.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { defaultPolicy } from '../../src/domain/policy.ts';
import { diffRows, isRemovalCandidate, parseRosterRows } from '../../src/domain/roster.ts';

describe('parseCsv', () => {
  it('reads a header and quoted fields with commas, quotes and line breaks', () => {
    const text = '\uFEFFid,name,note\r\n1,"Doe, Jane","said ""hi""\nthen left"\r\n\r\n2,Sam,\n';
    expect(parseCsv(text)).toEqual([
      { id: '1', name: 'Doe, Jane', note: 'said "hi"\nthen left' },
      { id: '2', name: 'Sam', note: '' },
    ]);
  });
});

function record(id: string, over: Partial<PersonRecord> = {}): PersonRecord {
  return {
    person: { id, employment: 'contractor', timezone: 'Europe/Berlin' },
    kind: 'ending',
    lastDay: '2027-01-29',
    endTime: '17:00',
    endsAt: '2027-01-29T16:00:00Z',
    cancelled: false,
    reinstatementRequired: false,
    cycle: 1,
    planVersion: 1,
    milestones: [{ name: 'revoke', dueAt: '2027-01-29T16:00:00Z', state: 'scheduled' }],
    lastEvent: { eventId: 'roster-abc', type: 'contract.ending', occurredAt: '2026-11-01T00:00:00Z' },
    createdAt: '2026-11-01T00:00:00Z',
    updatedAt: '2026-11-01T00:00:00Z',
    rev: 1,
    ...over,
  };
}

describe('roster diff', () => {
  const row = {
    id: 'a',
    employment: 'contractor',
    timezone: 'Europe/Berlin',
    lastDay: '2027-01-29',
  } as const;

  it('validates rows, ignoring extra columns and flagging duplicates', () => {
    const parsed = parseRosterRows([
      { ...row, team: 'x', email: '' },
      { ...row },
      { id: 'b', employment: 'boss', timezone: 'Mars/Base' },
    ]);
    expect(parsed.rows).toEqual([row]);
    expect(parsed.invalid.map((i) => i.index)).toEqual([1, 2]);
  });

  it('finds additions and changes; equal plans and terminations are left alone', () => {
    const known = new Map([
      ['same', record('same')],
      ['moved', record('moved')],
      ['term', record('term', { kind: 'terminated', lastDay: '2026-12-01' })],
      ['cancelled', record('cancelled', { cancelled: true })],
    ]);
    const rows = ['same', 'moved', 'term', 'cancelled', 'new'].map((id) => ({
      ...row,
      id,
      ...(id === 'moved' ? { endTime: '12:00' } : {}),
      ...(id === 'same' ? { endTime: '17:00:00' } : {}),
    }));
    const changes = diffRows(rows, known, defaultPolicy);
    expect(changes.map((c) => [c.kind, c.kind === 'removed' ? '' : c.row.id])).toEqual([
      ['changed', 'moved'],
      ['changed', 'cancelled'],
      ['added', 'new'],
    ]);
  });

  it('reads department and country; a bad country is an invalid row', () => {
    const parsed = parseRosterRows([
      { ...row, department: 'Finance', country: 'DE' },
      { ...row, id: 'b', department: '', country: '' },
      { ...row, id: 'c', country: 'de' },
    ]);
    expect(parsed.rows).toEqual([
      { ...row, department: 'Finance', country: 'DE' },
      { ...row, id: 'b' },
    ]);
    expect(parsed.invalid).toEqual([
      { index: 2, id: 'c', issues: [{ path: 'country', message: expect.stringMatching(/ISO 3166-1/) }] },
    ]);
  });

  it("a row without endTime wants its scope's default; a row that changes the scope is a change", () => {
    const policy = parseConfig({
      policy: { scopes: [{ name: 'germany', match: { country: 'DE' }, defaultEndTime: '16:00' }] },
    }).policy;
    const german = record('de', {
      person: { id: 'de', employment: 'contractor', timezone: 'Europe/Berlin', country: 'DE' },
      endTime: '16:00',
      endTimeDefaulted: true,
      policyScope: 'germany',
    });
    const unscoped = record('x'); // planned before it had a country: default scope, 17:00
    const known = new Map([
      ['de', german],
      ['x', unscoped],
    ]);
    const changes = diffRows(
      [
        { ...row, id: 'de', country: 'DE' },
        { ...row, id: 'x', country: 'DE' },
      ],
      known,
      policy,
    );
    expect(changes).toEqual([
      {
        kind: 'changed',
        row: {
          ...row,
          id: 'x',
          country: 'DE',
          lastDay: '2027-01-29',
          endTime: '16:00',
          endTimeDefaulted: true,
        },
      },
    ]);
    // Another department that no scope asks about changes nothing.
    expect(diffRows([{ ...row, id: 'x', department: 'Sales' }], known, policy)).toEqual([]);
  });

  it('removes only plans the roster introduced and not yet revoked', () => {
    const ids = new Set(['listed']);
    expect(isRemovalCandidate(record('gone'), ids)).toBe(true);
    expect(isRemovalCandidate(record('listed'), ids)).toBe(false);
    const webhook = record('wh', {
      lastEvent: { eventId: 'wd-1', type: 'contract.ending', occurredAt: '2026-11-01T00:00:00Z' },
    });
    expect(isRemovalCandidate(webhook, ids)).toBe(false);
    const revoked = record('rv', {
      milestones: [
        { name: 'revoke', dueAt: '2026-11-01T00:00:00Z', state: 'done', doneAt: '2026-11-01T00:00:01Z' },
      ],
    });
    expect(isRemovalCandidate(revoked, ids)).toBe(false);
  });
});
