/**
 * The HR event schema (contract section 2) and config errors (sections 1, 6):
 * strict, real dates, IANA zones only, and one line per problem naming the field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.ts';
import { configErrors } from '../helpers/config.ts';
import { hrEventSchema } from '../../src/domain/hrEvent.ts';
import { toIssues } from '../../src/domain/zodIssues.ts';
import { sha256Hex } from '../../src/http/auth.ts';

/** The contract's example event. */
function example(): Record<string, unknown> {
  return {
    eventId: 'wd-88412',
    type: 'contract.ending',
    occurredAt: '2026-11-20T15:04:05-08:00',
    person: {
      id: 'c-1042',
      email: 'c-1042@example.com',
      name: 'Sam Contractor',
      employment: 'contractor',
      timezone: 'America/Los_Angeles',
    },
    lastDay: '2026-12-04',
    endTime: '17:00',
  };
}

/** The example as another type, without the ending-only fields. */
function ofType(type: string): Record<string, unknown> {
  const { lastDay: _l, endTime: _e, ...rest } = example();
  return { ...rest, type };
}

function withPerson(patch: Record<string, unknown>) {
  const e = example();
  return { ...e, person: { ...(e.person as object), ...patch } };
}

/** The issues of an invalid event as `path: message`, or [] when it is valid. */
function problems(event: unknown): string[] {
  const r = hrEventSchema.safeParse(event);
  return r.success ? [] : toIssues(r.error, event).map((i) => `${i.path}: ${i.message}`);
}

function paths(event: unknown): string[] {
  const r = hrEventSchema.safeParse(event);
  return r.success ? [] : toIssues(r.error, event).map((i) => i.path);
}

describe('HR event schema', () => {
  it('accepts the contract example, and the minimal forms of each type', () => {
    expect(problems(example())).toEqual([]);
    const { lastDay: _l, endTime: _e, ...noDates } = example();
    expect(problems({ ...noDates, type: 'contract.terminated' })).toEqual([]);
    expect(
      problems({ ...noDates, type: 'contract.terminated', effectiveAt: '2026-12-01T12:00:00Z' }),
    ).toEqual([]);
    expect(problems({ ...noDates, type: 'offboarding.cancelled' })).toEqual([]);
    const { email: _m, name: _n, ...person } = example().person as Record<string, unknown>;
    expect(problems({ ...example(), person })).toEqual([]);
  });

  it('is strict: unknown fields are rejected, at the top and in person', () => {
    expect(problems({ ...example(), lastdayy: '2026-12-04' })).toEqual([
      'lastdayy: unknown field "lastdayy"',
    ]);
    expect(problems(withPerson({ timeZone: 'Europe/Berlin' }))).toEqual([
      'person.timeZone: unknown field "timeZone"',
    ]);
    // One problem per unknown field.
    expect(paths({ ...example(), a: 1, b: 2 })).toEqual(['a', 'b']);
  });

  it('names missing fields as required', () => {
    const { occurredAt: _o, ...rest } = example();
    expect(problems(rest)).toEqual(['occurredAt: required']);
    const { employment: _e, ...person } = example().person as Record<string, unknown>;
    expect(problems({ ...example(), person })).toEqual(['person.employment: required']);
    const { lastDay: _l, ...noLastDay } = example();
    expect(paths(noLastDay)).toEqual(['lastDay']);
  });

  it('a missing field is required even where the schema has its own message', () => {
    const { occurredAt: _o, ...rest } = example();
    const r = hrEventSchema.safeParse(rest);
    // Without the input to look at, zod 4's custom message hides that it was absent.
    expect(r.success || toIssues(r.error, rest)).toEqual([{ path: 'occurredAt', message: 'required' }]);
  });

  it('says what type was expected', () => {
    expect(problems({ ...example(), eventId: 42 })).toEqual(['eventId: expected a string']);
  });

  it('lastDay must be a real calendar date as YYYY-MM-DD', () => {
    for (const ok of ['2026-12-04', '2028-02-29', '2035-12-31'])
      expect(paths({ ...example(), lastDay: ok })).toEqual([]);
    for (const bad of [
      '2026-02-30',
      '2026-02-29',
      '2026-13-01',
      '2026-04-31',
      '2026-2-3',
      '20261204',
      '2026-12-04T00:00:00Z',
      '',
    ]) {
      expect(paths({ ...example(), lastDay: bad }), bad).toEqual(['lastDay']);
    }
  });

  it('person.timezone must be an IANA zone', () => {
    for (const ok of [
      'America/Los_Angeles',
      'Asia/Kolkata',
      'Pacific/Kiritimati',
      'Etc/UTC',
      'UTC',
      'America/Argentina/Buenos_Aires',
    ]) {
      expect(paths(withPerson({ timezone: ok })), ok).toEqual([]);
    }
    for (const bad of [
      '+02:00',
      'UTC+2',
      'GMT+2',
      'PST',
      'IST',
      'CST',
      'SystemV/PST8PDT',
      'Mars/Olympus_Mons',
      'Europe/Berlin ',
      '',
    ]) {
      expect(paths(withPerson({ timezone: bad })), bad).toEqual(['person.timezone']);
    }
  });

  it('endTime is HH:mm or HH:mm:ss', () => {
    for (const ok of ['17:00', '00:00', '23:59', '09:05:30', '23:59:59'])
      expect(paths({ ...example(), endTime: ok }), ok).toEqual([]);
    for (const bad of ['9:00', '24:00', '17:60', '17:00:60', '17h', '5pm', '17:00:00.000', '17:00Z', '']) {
      expect(paths({ ...example(), endTime: bad }), bad).toEqual(['endTime']);
    }
  });

  it('occurredAt and effectiveAt are ISO-8601 instants with an offset', () => {
    expect(paths({ ...example(), occurredAt: '2026-11-20T15:04:05' })).toEqual(['occurredAt']);
    expect(paths({ ...example(), occurredAt: '2026-11-20' })).toEqual(['occurredAt']);
    expect(paths({ ...example(), occurredAt: '2026-11-20T23:04:05.123Z' })).toEqual([]);
    const term = ofType('contract.terminated');
    expect(paths({ ...term, effectiveAt: '2026-12-01T12:00:00' })).toEqual(['effectiveAt']);
  });

  it('effectiveAt is allowed only for contract.terminated', () => {
    expect(paths({ ...example(), effectiveAt: '2026-12-01T12:00:00Z' })).toEqual(['effectiveAt']);
    const cancel = ofType('offboarding.cancelled');
    expect(paths({ ...cancel, effectiveAt: '2026-12-01T12:00:00Z' })).toEqual(['effectiveAt']);
  });

  it('type and employment are closed sets', () => {
    expect(paths({ ...example(), type: 'contract.ended' })).toEqual(['type']);
    expect(paths(withPerson({ employment: 'intern' }))).toEqual(['person.employment']);
  });

  it('eventId and person.id are 1–200 characters', () => {
    expect(paths({ ...example(), eventId: 'e'.repeat(200) })).toEqual([]);
    expect(paths({ ...example(), eventId: 'e'.repeat(201) })).toEqual(['eventId']);
    expect(paths({ ...example(), eventId: '' })).toEqual(['eventId']);
    expect(paths(withPerson({ id: 'p'.repeat(200) }))).toEqual([]);
    expect(paths(withPerson({ id: 'p'.repeat(201) }))).toEqual(['person.id']);
    expect(paths(withPerson({ id: '' }))).toEqual(['person.id']);
  });

  it('person ids may hold any characters, `:` and `/` included', () => {
    for (const id of ['contractor/with:odd id', 'a:b:c', '../..', 'ü/✓', '%2F', '{lastday}']) {
      const parsed = hrEventSchema.parse(withPerson({ id }));
      expect(parsed.person.id).toBe(id);
    }
  });

  it('ids must be well-formed text: a lone surrogate is refused, emoji are fine', () => {
    expect(paths(withPerson({ id: 'half-\ud83d' }))).toEqual(['person.id']);
    expect(paths({ ...example(), eventId: '\udc00' })).toEqual(['eventId']);
    expect(paths(withPerson({ id: '👩‍💻' }))).toEqual([]);
  });

  it('reason is at most 2000 characters', () => {
    expect(paths({ ...example(), reason: 'r'.repeat(2000) })).toEqual([]);
    expect(paths({ ...example(), reason: 'r'.repeat(2001) })).toEqual(['reason']);
  });
});

describe('config errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lastday-config-test-'));
  function configFile(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  it('a bad config file gives one line per problem, naming the field', () => {
    const path = configFile(
      'bad.json',
      JSON.stringify({
        policy: { reduce: { contractorBusinessDays: 'two' }, weekend: [8], defaultEndTime: '5pm', typo: 1 },
        auth: { tokens: [{ name: 'ops', role: 'root', sha256: 'abc' }] },
        connectors: [{ type: 'kerberos' }],
        protectedTarget: ['account:@vip-*'],
      }),
    );
    const lines = configErrors({ LASTDAY_CONFIG: path });
    expect(lines).toContain('policy.reduce.contractorBusinessDays: expected a number');
    const expectedFields = [
      'policy.reduce.contractorBusinessDays',
      'policy.weekend.0',
      'policy.defaultEndTime',
      'policy.typo',
      'auth.tokens.0.role',
      'auth.tokens.0.sha256',
      'connectors.0.type',
      'protectedTarget',
    ];
    expect(lines).toHaveLength(expectedFields.length);
    for (const field of expectedFields)
      expect(
        lines.some((l) => l.startsWith(`${field}: `)),
        field,
      ).toBe(true);
    // Every line starts with the field it is about.
    for (const line of lines) expect(line).toMatch(/^[\w.]+: /);
    // A missing required field says so, whatever message its schema carries.
    const scim = configFile('scim.json', JSON.stringify({ connectors: [{ type: 'scim', name: 'okta' }] }));
    expect(configErrors({ LASTDAY_CONFIG: scim })).toEqual([
      'connectors.0.baseUrl: required',
      'connectors.0.tokenEnv: required',
    ]);
    for (const line of lines) expect(line).not.toContain('\n');
  });

  it('environment problems are reported with the config problems', () => {
    const path = configFile('bad2.json', JSON.stringify({ policy: { verifyAfterMinutes: 'soon' } }));
    const lines = configErrors({
      LASTDAY_CONFIG: path,
      PORT: 'eighty',
      LASTDAY_HR_WEBHOOK_SECRET: 'hunter2',
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        'PORT: expected a number',
        expect.stringMatching(/^LASTDAY_HR_WEBHOOK_SECRET: /),
        'policy.verifyAfterMinutes: expected a number',
      ]),
    );
    expect(lines).toHaveLength(3);
    // A secret's value is never echoed back.
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it('an unreadable or malformed file is one line naming LASTDAY_CONFIG', () => {
    expect(configErrors({ LASTDAY_CONFIG: join(dir, 'missing.json') })).toEqual([
      expect.stringMatching(/^LASTDAY_CONFIG: cannot read .*missing\.json/),
    ]);
    expect(configErrors({ LASTDAY_CONFIG: configFile('broken.json', '{"policy": ') })).toEqual([
      expect.stringMatching(/^LASTDAY_CONFIG: /),
    ]);
  });

  it('the contract example config loads, with defaults for the rest', () => {
    const path = configFile(
      'good.json',
      JSON.stringify({
        policy: {
          defaultEndTime: '17:00',
          weekend: [6, 7],
          holidays: ['2026-12-25'],
          notice: { businessDays: 5, at: '09:00' },
          reduce: { contractorBusinessDays: 2, employeeBusinessDays: 1, at: '09:00' },
          verifyAfterMinutes: 60,
          holdExpiryHours: 72,
          cancelOnFreeze: [],
        },
        protectedTargets: ['account:@vip-*'],
        callbackAllowlist: ['https://*.corp.example'],
        auth: {
          tokens: [{ name: 'ops-alice', role: 'approver', personId: 'alice', sha256: sha256Hex('t') }],
        },
        connectors: [{ type: 'directory' }],
      }),
    );
    const settings = loadSettings({ LASTDAY_CONFIG: path });
    expect(settings.config.policy.reduce.contractorBusinessDays).toBe(2);
    expect(settings.env.PORT).toBe(8080);
    expect(settings.env.HOST).toBe('127.0.0.1');
    expect(settings.env.LASTDAY_PREFIX).toBe('lastday');
    expect(loadSettings({}).config.policy.defaultEndTime).toBe('17:00');
  });
});
