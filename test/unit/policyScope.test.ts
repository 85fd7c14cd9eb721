/**
 * Policy scopes (contract section 6) by example: the contract's own config
 * (Germany with 24/26 December and a 16:00 end; finance contractors with five
 * business days of reduce), how a scope's fields override the base, a
 * regional holiday calendar, the policy fingerprint, the HR event's
 * `person.country` / `person.department`, and config errors naming the field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { loadCalendar, withCalendars } from '../../src/config/holidays.ts';
import { parseConfig } from '../../src/config/load.ts';
import { configErrors } from '../helpers/config.ts';
import { type HrEvent, hrEventJsonSchema, hrEventSchema } from '../../src/domain/hrEvent.ts';
import { applyHrEvent, personView } from '../../src/domain/person.ts';
import { type Policy, policySchema } from '../../src/domain/policy.ts';
import { policyFor } from '../../src/domain/policyScope.ts';
import { toIssues } from '../../src/domain/zodIssues.ts';

/** The contract's v1.1 example, with the base policy's example holiday. */
const CONTRACT_POLICY = {
  holidays: ['2026-12-25'],
  scopes: [
    {
      name: 'germany',
      match: { country: 'DE' },
      holidays: ['2026-12-24', '2026-12-26'],
      defaultEndTime: '16:00',
    },
    {
      name: 'finance-contractors',
      match: { department: 'Finance', employment: 'contractor' },
      reduce: { contractorBusinessDays: 5 },
    },
  ],
};
const NOW = DateTime.fromISO('2026-11-01T00:00:00Z');

interface PersonPatch {
  employment?: 'contractor' | 'employee';
  timezone?: string;
  country?: string;
  department?: string;
}

function ending(person: PersonPatch, lastDay: string, endTime?: string): HrEvent {
  return hrEventSchema.parse({
    eventId: `e-${Math.random()}`,
    type: 'contract.ending',
    occurredAt: '2026-11-01T00:00:00Z',
    person: { id: 'p-1', employment: 'employee', timezone: 'Europe/Berlin', ...person },
    lastDay,
    ...(endTime ? { endTime } : {}),
  });
}

function plan(policy: Policy, event: HrEvent) {
  const result = applyHrEvent(undefined, event, policy, NOW);
  if (result.outcome !== 'applied') throw new Error(result.reason);
  const view = personView(result.record);
  return { view, due: Object.fromEntries(view.milestones.map((m) => [m.name, m.dueAt])) };
}

describe('the contract example: germany and finance-contractors', () => {
  const policy = parseConfig({ policy: CONTRACT_POLICY }).policy;

  it('a German employee: 16:00 end, 24 and 26 December off, and the base 25 December replaced', () => {
    // Monday 28 December 2026. `holidays` replace: the germany scope lists 24 and
    // 26 December, so 25 December (the base's) is a business day for it.
    const { view, due } = plan(policy, ending({ country: 'DE' }, '2026-12-28'));
    expect(view.policy).toBe('germany');
    expect(view.endTime).toBe('16:00');
    expect(due).toEqual({
      notice: '2026-12-18T08:00:00Z', // 5 business days back: 25, 23, 22, 21, 18 December
      reduce: '2026-12-25T08:00:00Z', // 1 business day back: Friday 25 December
      freeze: '2026-12-27T23:00:00Z',
      revoke: '2026-12-28T15:00:00Z', // 16:00 in Berlin
      verify: '2026-12-28T16:00:00Z',
    });
  });

  it('a German contractor: reduce skips the scope holiday 24 December', () => {
    const { due } = plan(policy, ending({ country: 'DE', employment: 'contractor' }, '2026-12-28'));
    expect(due.reduce).toBe('2026-12-23T08:00:00Z'); // 25, then 23 (24 is a holiday)
  });

  it("an event's own endTime beats the scope's defaultEndTime", () => {
    const { view, due } = plan(policy, ending({ country: 'DE' }, '2026-12-28', '18:30'));
    expect(view.policy).toBe('germany');
    expect(due.revoke).toBe('2026-12-28T17:30:00Z');
  });

  it('a Finance contractor: 5 business days of reduce; a Finance employee keeps the default', () => {
    const contractor = plan(
      policy,
      ending({ department: 'Finance', employment: 'contractor', timezone: 'America/New_York' }, '2026-12-04'),
    );
    expect(contractor.view.policy).toBe('finance-contractors');
    // Friday 4 December: 3, 2, 1 December, 30 and 27 November (a Friday).
    expect(contractor.due.reduce).toBe('2026-11-27T14:00:00Z');
    expect(contractor.due.notice).toBe('2026-11-27T14:00:00Z');
    expect(contractor.due.revoke).toBe('2026-12-04T22:00:00Z'); // the base 17:00

    const employee = plan(
      policy,
      ending({ department: 'Finance', employment: 'employee', timezone: 'America/New_York' }, '2026-12-04'),
    );
    expect(employee.view.policy).toBe('default');
    expect(employee.due.reduce).toBe('2026-12-03T14:00:00Z');
  });

  it('the first matching scope wins: a German Finance contractor is planned as germany', () => {
    const { view, due } = plan(
      policy,
      ending({ country: 'DE', department: 'Finance', employment: 'contractor' }, '2026-12-28'),
    );
    expect(view.policy).toBe('germany');
    expect(due.reduce).toBe('2026-12-23T08:00:00Z'); // 2 business days, not 5
  });

  it('department is compared exactly, and a person without one matches no scope that asks', () => {
    expect(policyFor({ employment: 'contractor', department: 'finance' }, policy).scope).toBe('default');
    expect(policyFor({ employment: 'contractor' }, policy).scope).toBe('default');
    expect(policyFor({ employment: 'contractor', country: 'AT' }, policy).scope).toBe('default');
  });
});

describe('how a scope overrides the base policy', () => {
  const base = {
    defaultEndTime: '17:00',
    weekend: [6, 7],
    holidays: ['2026-05-01'],
    holidayCalendar: 'DE',
    holidayTypes: ['public'],
    notice: { businessDays: 7, at: '08:00' },
    reduce: { contractorBusinessDays: 3, employeeBusinessDays: 2, at: '10:00' },
    verifyAfterMinutes: 30,
  };
  const effective = (scope: Record<string, unknown>) =>
    policyFor(
      { employment: 'employee', country: 'FR' },
      parseConfig({ policy: { ...base, scopes: [{ name: 's', match: { country: 'FR' }, ...scope }] } })
        .policy,
    );

  it('unset fields come from the base', () => {
    const e = effective({});
    expect(e.scope).toBe('s');
    expect(e.notice).toEqual(base.notice);
    expect(e.reduce).toEqual(base.reduce);
    expect(e.weekend).toEqual([6, 7]);
    expect(e.holidays.has('2026-05-01')).toBe(true);
    expect(e.holidays.has('2026-10-03')).toBe(true); // the base calendar (DE) too
  });

  it('notice and reduce merge field by field', () => {
    const e = effective({ notice: { at: '07:00' }, reduce: { contractorBusinessDays: 5 } });
    expect(e.notice).toEqual({ businessDays: 7, at: '07:00' });
    expect(e.reduce).toEqual({ contractorBusinessDays: 5, employeeBusinessDays: 2, at: '10:00' });
  });

  it('weekend, holidays and holidayTypes replace whole; holidayCalendar replaces, null turns it off', () => {
    const e = effective({ weekend: [5, 6], holidays: ['2026-07-14'], holidayCalendar: 'FR' });
    expect(e.weekend).toEqual([5, 6]);
    expect(e.holidays.has('2026-05-01')).toBe(true); // 1 May is public in France too
    expect(e.holidays.has('2026-07-14')).toBe(true);
    expect(e.holidays.has('2026-10-03')).toBe(false); // German unity day: DE calendar replaced
    const none = effective({ holidays: [], holidayCalendar: null });
    expect(none.holidayCalendar).toBeNull();
    expect(none.holidays.size).toBe(0);
    const typed = effective({ holidayCalendar: 'DE-BY', holidayTypes: ['observance'] });
    expect(typed.holidays.has('2026-08-15')).toBe(true); // Assumption: an observance in most of Bavaria
    expect(typed.holidays.has('2026-10-03')).toBe(false); // public, not counted
  });
});

describe('a regional calendar', () => {
  it('Corpus Christi is a holiday in Bavaria (DE-BY) and not in Germany as a whole (DE)', () => {
    const policy = parseConfig({
      policy: {
        holidayCalendar: 'DE',
        scopes: [{ name: 'bavaria', match: { department: 'Munich' }, holidayCalendar: 'DE-BY' }],
      },
    }).policy;
    // Friday 5 June 2026; Thursday 4 June is Fronleichnam.
    const munich = plan(policy, ending({ country: 'DE', department: 'Munich' }, '2026-06-05'));
    const berlin = plan(policy, ending({ country: 'DE', department: 'Berlin' }, '2026-06-05'));
    expect(munich.view.policy).toBe('bavaria');
    expect(munich.due.reduce).toBe('2026-06-03T07:00:00Z');
    expect(berlin.due.reduce).toBe('2026-06-04T07:00:00Z');
  });

  it('a date counts when the holiday is in force at noon: whole days, multi-day, sunset to sunset', () => {
    const dates = (code: string, type: string) =>
      loadCalendar(code, 2026, 2026)
        .days.filter((d) => d.type === type)
        .map((d) => d.date);
    // 24 December is a bank holiday from 14:00 in Germany: not at noon, not a date.
    expect(dates('DE', 'bank')).not.toContain('2026-12-24');
    expect(dates('DE', 'public')).toEqual(expect.arrayContaining(['2026-12-25', '2026-12-26']));
    // Eid al-Fitr in the UAE: three days, from the evening before.
    expect(dates('AE', 'public')).toEqual(expect.arrayContaining(['2026-03-20', '2026-03-21', '2026-03-22']));
    expect(dates('AE', 'public')).not.toContain('2026-03-19');
    // Passover in Israel starts at sunset on 1 April: 2 April is the holiday.
    expect(dates('IL', 'public')).toContain('2026-04-02');
    expect(dates('IL', 'public')).not.toContain('2026-04-01');
  });

  it('calendars are loaded for last year through ten years ahead of loading', () => {
    const policy = withCalendars(
      policySchema.parse({ holidayCalendar: 'US' }),
      new Date('2026-03-01T00:00:00Z'),
    );
    expect(policy.calendars.US).toMatchObject({ fromYear: 2025, toYear: 2036 });
    expect(policy.calendars.US!.source).toMatch(/^date-holidays@\d+\.\d+\.\d+$/);
  });

  it('a policy that names a calendar nobody loaded refuses to plan rather than skip its holidays', () => {
    const unloaded = policySchema.parse({ holidayCalendar: 'DE' });
    expect(() => policyFor({ employment: 'employee' }, unloaded)).toThrow(
      /holiday calendar DE is not loaded/,
    );
  });
});

describe('the policy fingerprint', () => {
  const hashOf = (policy: Record<string, unknown>, person = { employment: 'employee' as const }) =>
    policyFor(person, parseConfig({ policy }).policy).hash;

  it('is stable: the same policy written in another order, or with other action settings', () => {
    const a = hashOf({ weekend: [6, 7], holidays: ['2026-12-25', '2026-12-24'], notice: { at: '09:00' } });
    expect(hashOf({ notice: { at: '09:00' }, holidays: ['2026-12-24', '2026-12-25'], weekend: [7, 6] })).toBe(
      a,
    );
    expect(hashOf({ holidays: ['2026-12-24', '2026-12-25'], holdExpiryHours: 5, failAfterMinutes: 3 })).toBe(
      a,
    );
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it('changes with everything that shapes a plan', () => {
    const base = hashOf({});
    const variants = [
      { defaultEndTime: '16:00' },
      { weekend: [5, 6] },
      { holidays: ['2026-12-24'] },
      { holidayCalendar: 'DE' },
      { holidayCalendar: 'DE', holidayTypes: ['public', 'bank'] },
      { notice: { businessDays: 4 } },
      { notice: { at: '09:30' } },
      { reduce: { contractorBusinessDays: 3 } },
      { reduce: { employeeBusinessDays: 2 } },
      { reduce: { at: '08:00' } },
      { verifyAfterMinutes: 61 },
    ];
    const hashes = variants.map((v) => hashOf(v));
    expect(hashes).not.toContain(base);
    expect(new Set(hashes).size).toBe(variants.length);
  });

  it("is the effective policy's, not the scope's name: a renamed scope keeps it", () => {
    const scoped = (name: string) =>
      hashOf(
        { scopes: [{ name, match: { employment: 'employee' }, verifyAfterMinutes: 5 }] },
        { employment: 'employee' },
      );
    expect(scoped('a')).toBe(scoped('b'));
    expect(scoped('a')).toBe(hashOf({ verifyAfterMinutes: 5 }));
  });

  it('is stored with the plan, with the scope', () => {
    const policy = parseConfig({ policy: CONTRACT_POLICY }).policy;
    const result = applyHrEvent(undefined, ending({ country: 'DE' }, '2026-12-28'), policy, NOW);
    if (result.outcome !== 'applied') throw new Error('not applied');
    expect(result.record.policyScope).toBe('germany');
    expect(result.record.policyHash).toBe(policyFor({ employment: 'employee', country: 'DE' }, policy).hash);
    expect(result.record.endTimeDefaulted).toBe(true);
  });
});

describe('person.country and person.department in HR events', () => {
  const event = (person: Record<string, unknown>) => ({
    eventId: 'e',
    type: 'contract.ending',
    occurredAt: '2026-11-20T15:04:05-08:00',
    person: { id: 'p', employment: 'employee', timezone: 'Europe/Berlin', ...person },
    lastDay: '2026-12-04',
  });
  const problems = (e: unknown) => {
    const r = hrEventSchema.safeParse(e);
    return r.success ? [] : toIssues(r.error, e).map((i) => `${i.path}: ${i.message}`);
  };

  it('accepts an assigned ISO 3166-1 alpha-2 code (and XK) and a department', () => {
    for (const country of ['DE', 'US', 'GB', 'XK', 'AX']) expect(problems(event({ country }))).toEqual([]);
    expect(problems(event({ department: 'Finance & Controlling / EMEA' }))).toEqual([]);
  });

  it('refuses lower case, three letters, unassigned, withdrawn and non-country codes', () => {
    for (const country of ['de', 'DEU', 'ZZ', 'UK', 'SU', 'EU', 'D', '', 49]) {
      expect(problems(event({ country }))).toEqual([
        expect.stringMatching(/^person\.country: expected an ISO 3166-1 alpha-2 country code/),
      ]);
    }
    expect(problems(event({ department: '' }))).toEqual([expect.stringMatching(/^person\.department: /)]);
    expect(problems(event({ department: 'x'.repeat(201) }))).toEqual([
      expect.stringMatching(/^person\.department: /),
    ]);
    expect(problems(event({ department: '\ud800' }))).toEqual([
      expect.stringMatching(/^person\.department: expected well-formed/),
    ]);
  });

  it('the exported JSON Schema lists them', () => {
    const person = (hrEventJsonSchema().properties as Record<string, { properties: Record<string, unknown> }>)
      .person!.properties;
    expect(person.department).toEqual({ type: 'string', minLength: 1, maxLength: 200 });
    expect((person.country as { enum: string[] }).enum).toEqual(expect.arrayContaining(['DE', 'US', 'XK']));
    expect((person.country as { enum: string[] }).enum).toHaveLength(250);
  });
});

describe('config errors name the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lastday-scope-config-'));
  function errorLines(config: unknown): string[] {
    const path = join(dir, `c-${Math.random()}.json`);
    writeFileSync(path, JSON.stringify(config));
    return configErrors({ LASTDAY_CONFIG: path });
  }

  it('unknown calendars, bad scopes and fields a scope may not set', () => {
    const lines = errorLines({
      policy: {
        holidayCalendar: 'DE-XX',
        scopes: [
          { name: 'germany', match: { country: 'de' }, holidayCalendar: 'DE-by' },
          { name: 'germany', match: {}, holdExpiryHours: 3 },
          { name: 'default', match: { employment: 'intern' }, holidayCalendar: 'Germany' },
          {
            name: 'x',
            match: { country: 'US' },
            holidayCalendar: 'ZZ',
            reduce: { contractorBusinessDays: 'five' },
          },
        ],
      },
    });
    expect(lines).toEqual([
      'policy.scopes.0.match.country: expected an ISO 3166-1 alpha-2 country code in upper case, such as DE or US',
      'policy.scopes.1.match: expected at least one of country, department, employment',
      'policy.scopes.1.holdExpiryHours: unknown field "holdExpiryHours"',
      'policy.scopes.2.name: "default" names the base policy; choose another name',
      expect.stringMatching(/^policy\.scopes\.2\.match\.employment: /),
      'policy.scopes.2.holidayCalendar: expected a holiday calendar such as DE, DE-BY or US-CA (country, then optional state and region)',
      'policy.scopes.3.reduce.contractorBusinessDays: expected a number',
    ]);
    // Calendar codes are checked once the rest of the policy is valid.
    expect(
      errorLines({
        policy: {
          holidayCalendar: 'DE-XX',
          scopes: [
            { name: 'germany', match: { country: 'DE' }, holidayCalendar: 'DE-by' },
            { name: 'us', match: { country: 'US' }, holidayCalendar: 'ZZ' },
            { name: 'nz', match: { country: 'NZ' }, holidayCalendar: 'NZ-CAN-timaru' },
          ],
        },
      }),
    ).toEqual([
      'policy.holidayCalendar: unknown holiday calendar "DE-XX": no state of DE "XX" (known: BB, BE, BW, BY, HB, HE, HH, MV, NI, NW, RP, SH, SL, SN, ST, TH)',
      'policy.scopes.0.holidayCalendar: unknown holiday calendar "DE-by": did you mean "DE-BY"?',
      'policy.scopes.1.holidayCalendar: unknown holiday calendar "ZZ": no calendar for country ZZ',
      'policy.scopes.2.holidayCalendar: unknown holiday calendar "NZ-CAN-timaru": did you mean "NZ-CAN-Timaru"?',
    ]);
    expect(
      errorLines({
        policy: {
          scopes: [
            { name: 'germany', match: { country: 'DE' } },
            { name: 'germany', match: { country: 'AT' } },
          ],
        },
      }),
    ).toEqual(['policy.scopes.1.name: duplicate scope name "germany" (also policy.scopes.0)']);
  });
});
