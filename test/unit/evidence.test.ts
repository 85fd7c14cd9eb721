import { describe, expect, it } from 'vitest';
import { buildEvidence, type EvidenceInput } from '../../src/domain/evidence.ts';
import { evidenceMarkdown } from '../../src/domain/evidenceMarkdown.ts';
import type { PersonRecord } from '../../src/domain/person.ts';

const base: PersonRecord = {
  person: { id: 'c-1042', name: 'Sam Contractor', employment: 'contractor', timezone: 'America/Los_Angeles' },
  kind: 'ending',
  lastDay: '2026-12-04',
  endTime: '17:00',
  endsAt: '2026-12-05T01:00:00Z',
  cancelled: false,
  reinstatementRequired: false,
  cycle: 1,
  planVersion: 2,
  milestones: [
    { name: 'reduce', dueAt: '2026-12-02T17:00:00Z', state: 'done', doneAt: '2026-12-02T17:00:01Z' },
    { name: 'revoke', dueAt: '2026-12-05T01:00:00Z', state: 'done', doneAt: '2026-12-05T01:00:03Z' },
    { name: 'verify', dueAt: '2026-12-05T02:00:00Z', state: 'done', doneAt: '2026-12-05T02:00:01Z' },
  ],
  lastEvent: { eventId: 'wd-2', type: 'contract.ending', occurredAt: '2026-11-25T00:00:00Z' },
  createdAt: '2026-11-20T00:00:00Z',
  updatedAt: '2026-12-05T02:00:01Z',
  rev: 9,
};

const audit = [
  {
    seq: 1,
    at: '2026-11-20T00:00:00Z',
    type: 'hr_event.applied',
    actor: 'hr',
    details: {
      eventId: 'wd-1',
      type: 'contract.ending',
      planVersion: 1,
      lastDay: '2026-12-11',
      milestones: [{ name: 'revoke', dueAt: '2026-12-12T01:00:00Z', state: 'scheduled' }],
    },
  },
  {
    seq: 2,
    at: '2026-11-25T00:00:00Z',
    type: 'hr_event.applied',
    actor: 'hr',
    details: { eventId: 'wd-2', type: 'contract.ending', planVersion: 2, lastDay: '2026-12-04' },
  },
  {
    seq: 3,
    at: '2026-12-05T01:00:03Z',
    type: 'effect.revoke',
    actor: 'lastday',
    details: { connector: 'directory', removed: ['g-read'] },
  },
];

const effects = {
  'c1.reduce|directory': { state: 'done', data: { grants: [{ id: 'g-admin' }] } },
  'c1.revoke|directory': { state: 'done', data: { grants: [{ id: 'g-read' }], wasActive: true } },
  'c1.verify|directory': { state: 'done', data: { drift: false } },
};

/** The report on `record` with this file's effects and audit trail, an intact chain of 3, on Dec 6; `over` changes any input. */
const evidenceOf = (record: PersonRecord, over: Partial<EvidenceInput> = {}) =>
  buildEvidence({
    record,
    effects,
    audit,
    chain: { ok: true, entries: 3 },
    now: new Date('2026-12-06T00:00:00Z'),
    ...over,
  });

describe('evidence report', () => {
  it('shows planned vs done, lag, removals, and passes the controls when revoked in time', () => {
    const r = evidenceOf(base);
    const revoke = r.milestones.find((m) => m.name === 'revoke')!;
    expect(revoke).toMatchObject({ firstPlannedAt: '2026-12-12T01:00:00Z', lagSeconds: 3 });
    expect(r.plans.map((p) => p.eventId)).toEqual(['wd-1', 'wd-2']);
    expect(r.connectors.map((c) => [c.effect, c.removed])).toEqual([
      ['reduce', ['g-admin']],
      ['revoke', ['g-read']],
      ['verify', []],
    ]);
    expect(r.connectors[1]!.at).toBe('2026-12-05T01:00:03Z');
    expect(r.holds).toEqual({ available: false, items: [] });
    expect(r.controls.map((c) => c.result)).toEqual(['pass', 'pass', 'pass']);
    const md = evidenceMarkdown(r);
    expect(md).toContain('| FedRAMP PS-4 |');
    expect(md).toContain('g-admin');
    expect(md).toContain('**verifies**');
  });

  it('fails the controls when revoke is late or the chain is broken, and lists holds', () => {
    const late: PersonRecord = {
      ...base,
      milestones: [{ name: 'revoke', dueAt: '2026-12-05T01:00:00Z', state: 'failed', lastError: 'scim 503' }],
    };
    const r = buildEvidence({
      record: late,
      effects: {},
      audit,
      chain: { ok: false, entries: 2, brokenAt: 3 },
      holds: [{ actionId: 'a-1', kind: 'repo.delete', target: 'repo:x', state: 'held', decidedBy: 'alice' }],
      now: new Date('2026-12-05T06:00:00Z'),
    });
    expect(r.controls.map((c) => c.result)).toEqual(['fail', 'fail', 'fail']);
    expect(r.holds.items).toHaveLength(1);
    expect(evidenceMarkdown(r)).toContain('does not verify');
  });

  it('is pending before the deadline and not applicable when cancelled', () => {
    const pending = buildEvidence({
      record: {
        ...base,
        milestones: [{ name: 'revoke', dueAt: '2026-12-05T01:00:00Z', state: 'scheduled' }],
      },
      effects: {},
      audit: [],
      chain: { ok: true, entries: 0 },
      now: new Date('2026-12-05T01:05:00Z'),
    });
    expect(pending.controls.map((c) => c.result)).toEqual(['pending', 'pending', 'pending']);
    const cancelled = buildEvidence({
      record: { ...base, cancelled: true, milestones: [] },
      effects: {},
      audit: [],
      chain: { ok: true, entries: 0 },
      now: new Date('2026-12-05T01:05:00Z'),
    });
    expect(cancelled.controls.every((c) => c.result === 'not_applicable')).toBe(true);
  });

  it('never calls an early effect on time: a revoke done before its dueAt fails every control', () => {
    // Data from before the early-run guard: revoke's job promoted by hand 18 days early.
    const record: PersonRecord = {
      ...base,
      milestones: [
        { name: 'reduce', dueAt: '2026-12-02T17:00:00Z', state: 'done', doneAt: '2026-11-16T20:00:00Z' },
        { name: 'revoke', dueAt: '2026-12-05T01:00:00Z', state: 'done', doneAt: '2026-11-17T01:00:00Z' },
        { name: 'verify', dueAt: '2026-12-05T02:00:00Z', state: 'done', doneAt: '2026-12-05T02:00:01Z' },
      ],
    };
    const r = evidenceOf(record);
    const revoke = r.milestones.find((m) => m.name === 'revoke')!;
    expect(revoke).toMatchObject({ early: true, lagSeconds: -18 * 86_400 });
    expect(r.milestones.find((m) => m.name === 'verify')).not.toHaveProperty('early');
    expect(r.controls.map((c) => c.result)).toEqual(['fail', 'fail', 'fail']);
    for (const c of r.controls) expect(c.detail).toContain('revoke took effect EARLY');
    expect(r.controls[0]!.detail).toContain('reduce took effect EARLY');
    expect(r.controls[1]!.detail).toContain('432.0 h before its due time 2026-12-05T01:00:00Z');
    const md = evidenceMarkdown(r);
    expect(md).toContain('| PCI DSS 8.2.5 |');
    expect(md).toContain('**432.0 h EARLY**');
    expect(md).not.toContain('0 s after');
  });

  it('an effect a fraction of a second early is early too, never rounded to on time', () => {
    const record: PersonRecord = {
      ...base,
      milestones: [
        { name: 'revoke', dueAt: '2026-12-05T01:00:00Z', state: 'done', doneAt: '2026-12-05T00:59:59.800Z' },
      ],
    };
    const r = evidenceOf(record);
    expect(r.milestones[0]).toMatchObject({ early: true, lagSeconds: -1 });
    expect(r.controls.map((c) => c.result)).toEqual(['fail', 'fail', 'fail']);
  });

  it('an early read-back fails CC6.2 only; revoke on time keeps PS-4 and PCI', () => {
    const record: PersonRecord = {
      ...base,
      milestones: [
        base.milestones[0]!,
        base.milestones[1]!,
        { name: 'verify', dueAt: '2026-12-05T02:00:00Z', state: 'done', doneAt: '2026-12-05T01:10:00Z' },
      ],
    };
    const r = evidenceOf(record);
    expect(r.controls.map((c) => c.result)).toEqual(['fail', 'pass', 'pass']);
    expect(r.controls[0]!.detail).toContain('verify took effect EARLY');
  });

  it('shows early runs that were put back, and still passes a revoke done on time', () => {
    const withEarlyRun = [
      ...audit,
      {
        seq: 4,
        at: '2026-11-26T00:00:00Z',
        type: 'milestone.early_run',
        actor: 'lastday',
        details: { milestone: 'revoke', dueAt: '2026-12-05T01:00:00Z', earlyMs: 777_600_000 },
      },
    ];
    const r = evidenceOf(base, { audit: withEarlyRun, chain: { ok: true, entries: 4 } });
    const revoke = r.milestones.find((m) => m.name === 'revoke')!;
    expect(revoke).toMatchObject({ earlyRunsPutBack: 1, lagSeconds: 3 });
    expect(revoke).not.toHaveProperty('early');
    expect(r.controls.map((c) => c.result)).toEqual(['pass', 'pass', 'pass']);
    expect(evidenceMarkdown(r)).toContain('done (1 early run(s) put back)');
  });

  it('names the HR share of a late plan; compliance still counts from dueAt', () => {
    const record: PersonRecord = {
      ...base,
      milestones: [
        base.milestones[0]!,
        {
          name: 'revoke',
          dueAt: '2026-12-05T01:00:00Z',
          actionableAt: '2026-12-05T03:00:00Z',
          state: 'done',
          doneAt: '2026-12-05T03:00:02Z',
        },
        base.milestones[2]!,
      ],
    };
    const r = evidenceOf(record);
    const revoke = r.milestones.find((m) => m.name === 'revoke')!;
    expect(revoke).toMatchObject({ actionableAt: '2026-12-05T03:00:00Z', lagSeconds: 7202 });
    expect(revoke).not.toHaveProperty('early');
    // Whoever was late, access outlived the last day by 2 h: past PCI's 15 minutes.
    expect(r.controls.map((c) => c.result)).toEqual(['pass', 'pass', 'fail']);
    expect(evidenceMarkdown(r)).toContain('2.0 h (HR event 2.0 h after due)');
  });
  it('lists a replan under a changed policy among the plans, in audit order', () => {
    const replanned = {
      seq: 3,
      at: '2026-11-30T00:00:00Z',
      type: 'policy.replanned',
      actor: 'lastday',
      details: {
        scope: { from: 'default', to: 'default' },
        policyHash: { from: 'aaaa', to: 'bbbb' },
        planVersion: { from: 2, to: 3 },
        moved: [{ name: 'reduce', from: '2026-12-02T17:00:00Z', to: '2026-12-01T17:00:00Z' }],
        lastDay: '2026-12-04',
        endsAt: '2026-12-05T01:00:00Z',
      },
    };
    const r = evidenceOf(
      { ...base, planVersion: 3 },
      { audit: [audit[0]!, audit[1]!, replanned, { ...audit[2]!, seq: 4 }], chain: { ok: true, entries: 4 } },
    );
    expect(r.plans.map((p) => [p.planVersion, p.eventType, p.eventId])).toEqual([
      [1, 'contract.ending', 'wd-1'],
      [2, 'contract.ending', 'wd-2'],
      [3, 'policy.replanned', 'policy aaaa → bbbb'],
    ]);
    expect(evidenceMarkdown(r)).toContain('policy aaaa → bbbb');
  });
});
