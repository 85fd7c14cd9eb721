/**
 * The stored person (src/store/personCodec.ts): every record decodes to
 * exactly what was encoded, records stored in the plain JSON of earlier
 * versions still decode, fields the codec does not know survive, and the
 * stored text is much shorter than the plain JSON.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { HR_EVENT_TYPES } from '../../src/domain/hrEvent.ts';
import { MILESTONES, type Milestone } from '../../src/domain/milestone.ts';
import { applyHrEvent, type PersonRecord } from '../../src/domain/person.ts';
import { defaultPolicy } from '../../src/domain/policy.ts';
import { decodePerson, encodePerson } from '../../src/store/personCodec.ts';

const NOW = DateTime.fromISO('2026-12-01T09:20:55.448Z', { zone: 'utc' });

/** What the bench's people look like: a contract ending 45 days ahead, just applied. */
function scheduled(): PersonRecord {
  const result = applyHrEvent(
    undefined,
    {
      eventId: 'bench-later-12345-702e1233',
      type: 'contract.ending',
      occurredAt: '2026-12-01T09:20:55.440Z',
      person: {
        id: 'later-12345',
        email: 'later-12345@example.com',
        employment: 'contractor',
        timezone: 'UTC',
      },
      lastDay: '2027-01-15',
    },
    defaultPolicy,
    NOW,
  );
  if (result.outcome !== 'applied') throw new Error(result.reason);
  return { ...result.record, rev: 1 };
}

/** Every optional field set, states of each kind, instants the codec cannot shorten. */
function everything(): PersonRecord {
  const base = scheduled();
  const milestones: Milestone[] = [
    { name: 'notice', dueAt: '2027-01-08T09:00:00Z', state: 'done', doneAt: '2027-01-08T09:00:01.250Z' },
    {
      name: 'reduce',
      dueAt: '2027-01-13T09:00:00Z',
      actionableAt: '2027-01-13T10:00:00Z',
      state: 'failed',
      lastError: 'ldap: timeout "quoted" \u2028 ✓',
      failedAt: '2027-01-13T10:05:00.000Z',
      alertedAt: '2027-01-13T10:05:00.125Z',
    },
    { name: 'freeze', dueAt: '2027-01-15T00:00:00+01:00', state: 'cancelled' },
    {
      name: 'revoke',
      dueAt: '2027-01-15T17:00:00Z',
      state: 'scheduled',
      actionableAt: '2027-01-15T17:00:30Z',
    },
  ];
  return {
    ...base,
    person: {
      id: 'p:1/ü',
      name: 'Zoë',
      employment: 'employee',
      timezone: 'Europe/Berlin',
      department: 'R&D',
      country: 'DE',
      manager: { id: 'm-1', email: 'm@example.com' },
    },
    kind: 'terminated',
    endTime: '17:00:00',
    policyScope: 'contractors-de',
    endsAt: '2027-01-16T17:00:00Z',
    cancelled: true,
    reinstatementRequired: true,
    reinstatement: {
      actionId: 'act-9',
      requestedBy: 'alice',
      approvedBy: 'bob',
      reason: 'came back',
      at: '2027-01-20T08:00:00.001Z',
      cycle: 2,
    },
    cycle: 3,
    planVersion: 12,
    milestones,
    lastEvent: { eventId: 'e-7', type: 'offboarding.cancelled', occurredAt: '2027-01-01T10:00:00+02:00' },
    updatedAt: '2027-01-02T00:00:00Z',
    rev: 41,
  };
}

describe('person codec', () => {
  it('gives back the record it stored, and stores a scheduled person in under 40 % of its JSON', () => {
    const record = scheduled();
    const stored = encodePerson(record);
    expect(decodePerson(stored)).toStrictEqual(record);
    expect(stored.length).toBeLessThan(JSON.stringify(record).length * 0.4);
  });

  it('keeps every optional field, state and instant that is not in the short form', () => {
    const record = everything();
    expect(decodePerson(encodePerson(record))).toStrictEqual(record);
    // Saved before scopes existed: no policyScope at all, which is not `default`.
    const { endTimeDefaulted: _d, policyHash: _h, policyScope: _s, ...without } = record;
    const bare = { ...without, kind: 'none', lastDay: null, endTime: null, endsAt: null } as PersonRecord;
    expect(decodePerson(encodePerson(bare))).toStrictEqual(bare);
    expect(decodePerson(encodePerson({ ...bare, policyScope: 'default' })).policyScope).toBe('default');
  });

  it('stores an instant as epoch ms exactly when formatting the number gives back its text', () => {
    const isoOf = (ms: number) => {
      const iso = new Date(ms).toISOString();
      return ms % 1000 === 0 ? `${iso.slice(0, -5)}Z` : iso;
    };
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    const instant = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
        fc.option(fc.integer({ min: 0, max: 999 })),
        fc.constantFrom('Z', '+00:00', 'z'),
      )
      .map(
        ([y, mo, d, h, mi, s, ms, zone]) =>
          `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}` +
          `${ms === null ? '' : `.${pad(ms, 3)}`}${zone}`,
      );
    const base = scheduled();
    fc.assert(
      fc.property(instant, (at) => {
        const record = { ...base, createdAt: at, updatedAt: at };
        const stored = JSON.parse(encodePerson(record)) as { ca: unknown };
        const ms = Date.parse(at);
        expect(stored.ca).toBe(Number.isFinite(ms) && isoOf(ms) === at ? ms : at);
        expect(decodePerson(encodePerson(record))).toStrictEqual(record);
      }),
      { numRuns: 5000 },
    );
  });

  it('reads a record stored as plain JSON by an earlier version', () => {
    for (const record of [scheduled(), everything()]) {
      expect(decodePerson(JSON.stringify(record))).toStrictEqual(record);
    }
  });

  it('keeps fields it does not know, at every level, under their own names', () => {
    const record = everything();
    const extended = {
      ...record,
      appliedEventIds: ['e-5', 'e-6', 'e-7'],
      person: { ...record.person, pronouns: 'she/her' },
      milestones: [
        { ...record.milestones[0]!, attempt: 2 },
        ...record.milestones.slice(1),
        { name: 'later', dueAt: 'x', state: 'odd' },
      ],
      reinstatement: { ...record.reinstatement!, ticket: 'T-1' },
      lastEvent: { ...record.lastEvent, source: 'scim' },
    } as unknown as PersonRecord;
    const stored = encodePerson(extended);
    expect(decodePerson(stored)).toStrictEqual(extended);
    expect(stored).toContain('"appliedEventIds":["e-5","e-6","e-7"]');
    // The event marks moving into the record have short names already.
    const marked = { ...record, recentEvents: ['e-6', 'e-7'], legacyEventMarks: true } as PersonRecord;
    expect(decodePerson(encodePerson(marked))).toStrictEqual(marked);
    expect(encodePerson(marked)).toContain('"re":["e-6","e-7"]');
    expect(encodePerson(marked)).toContain('"lm":true');
  });

  it('round-trips records the domain builds from any sequence of HR events', () => {
    const event = fc.record({
      type: fc.constantFrom(...HR_EVENT_TYPES),
      days: fc.integer({ min: -20, max: 60 }),
      minutes: fc.integer({ min: 0, max: 24 * 60 }),
      endTime: fc.option(fc.constantFrom('09:30', '17:00', '23:59:59'), { nil: undefined }),
      done: fc.subarray([...MILESTONES]),
    });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 6 }), (events) => {
        let record: PersonRecord | undefined;
        let now = NOW;
        for (const [i, e] of events.entries()) {
          now = now.plus({ minutes: e.minutes, milliseconds: i * 7 });
          const day = NOW.plus({ days: e.days });
          const result = applyHrEvent(
            record,
            {
              eventId: `e-${i}`,
              type: e.type,
              occurredAt: now.toISO()!,
              person: { id: 'p', employment: 'employee', timezone: 'America/New_York' },
              ...(e.type === 'contract.ending' ? { lastDay: day.toISODate()! } : {}),
              ...(e.type === 'contract.ending' && e.endTime ? { endTime: e.endTime } : {}),
              ...(e.type === 'contract.terminated' ? { effectiveAt: day.toISO()! } : {}),
            },
            defaultPolicy,
            now,
          );
          if (result.outcome !== 'applied') continue;
          record = {
            ...result.record,
            milestones: result.record.milestones.map((m) =>
              e.done.includes(m.name) ? { ...m, state: 'done', doneAt: now.toISO()! } : m,
            ),
          };
          expect(decodePerson(encodePerson(record))).toStrictEqual(record);
        }
      }),
      { numRuns: 200 },
    );
  });
});
