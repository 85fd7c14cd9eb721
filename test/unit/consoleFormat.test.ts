/** The console's spelling of times and lateness, and the OIDC claims → role mapping (no I/O). */
import { describe, expect, it } from 'vitest';
import { durationText, lateness, twoClocks, weekOf } from '../../src/console/format.ts';
import { OidcSignIn } from '../../src/console/oidc.ts';

describe('times for people', () => {
  it('writes an instant in the person zone and in UTC, across a DST change', () => {
    expect(twoClocks('2026-12-05T01:00:00Z', 'America/Los_Angeles')).toEqual({
      local: 'Fri 4 Dec 2026, 17:00 PST',
      utc: '2026-12-05 01:00 UTC',
      iso: '2026-12-05T01:00:00Z',
    });
    expect(twoClocks('2026-07-03T00:00:00Z', 'America/Los_Angeles').local).toBe('Thu 2 Jul 2026, 17:00 PDT');
    expect(twoClocks('2026-03-29T00:30:00Z', 'Europe/Berlin').local).toBe('Sun 29 Mar 2026, 01:30 GMT+1');
  });

  it('groups by ISO week in UTC, Monday first', () => {
    expect(weekOf('2026-12-06T23:59:59Z').key).toBe('2026-11-30');
    expect(weekOf('2026-12-07T00:00:00Z').key).toBe('2026-12-07');
    expect(weekOf('2026-12-07T00:00:00Z').label).toBe('Week 50: Mon 7 Dec – Sun 13 Dec 2026');
  });

  it('says how late a milestone was, from when lastday could act', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    const due = '2026-12-04T10:00:00Z';
    expect(lateness({ state: 'done', dueAt: due, doneAt: '2026-12-04T10:00:20Z' }, now)).toEqual({
      text: 'on time',
      late: false,
    });
    expect(lateness({ state: 'done', dueAt: due, doneAt: '2026-12-04T10:12:00Z' }, now).text).toBe(
      '12 min late',
    );
    expect(
      lateness(
        { state: 'done', dueAt: due, actionableAt: '2026-12-04T10:11:30Z', doneAt: '2026-12-04T10:12:00Z' },
        now,
      ).text,
    ).toBe('on time');
    expect(lateness({ state: 'scheduled', dueAt: due }, now)).toEqual({ text: 'overdue by 2 h', late: true });
    expect(lateness({ state: 'scheduled', dueAt: '2026-12-06T13:30:00Z' }, now).text).toBe('in 2 d 1 h');
    expect(durationText(45_000)).toBe('45 s');
  });
});

describe('OIDC claims', () => {
  const oidc = new OidcSignIn(
    {
      issuer: 'https://sso.corp.example',
      clientId: 'lastday',
      personIdClaim: 'preferred_username',
      roleClaim: 'groups',
      roles: { 'lastday-admins': 'admin', secops: 'approver', it: 'viewer' },
    },
    {},
  );

  it('takes the person from personIdClaim and the highest role its groups map to', () => {
    expect(oidc.principalOf({ preferred_username: 'alice', groups: ['it', 'secops', 'other'] })).toEqual({
      ok: true,
      principal: { name: 'oidc:alice', role: 'approver', personId: 'alice' },
    });
    expect(oidc.principalOf({ preferred_username: 'root', groups: 'lastday-admins' })).toMatchObject({
      ok: true,
      principal: { role: 'admin' },
    });
  });

  it('refuses with 403 when no group matches or the person claim is missing', () => {
    expect(oidc.principalOf({ preferred_username: 'bob', groups: ['marketing'] })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(oidc.principalOf({ preferred_username: 'bob' })).toMatchObject({ ok: false, status: 403 });
    expect(oidc.principalOf({ sub: 'x', groups: ['secops'] })).toMatchObject({ ok: false, status: 403 });
  });

  it('maps only the configured group names, never an inherited property such as constructor', () => {
    for (const group of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(oidc.principalOf({ preferred_username: 'eve', groups: [group] })).toMatchObject({
        ok: false,
        status: 403,
      });
    }
    expect(oidc.principalOf({ preferred_username: 'carol', groups: ['constructor', 'it'] })).toEqual({
      ok: true,
      principal: { name: 'oidc:carol', role: 'viewer', personId: 'carol' },
    });
  });

  it('refuses a plain-http issuer off loopback and a missing client secret', () => {
    const base = { clientId: 'lastday', personIdClaim: 'sub', roleClaim: 'groups', roles: {} };
    expect(() => new OidcSignIn({ ...base, issuer: 'http://sso.corp.example' }, {})).toThrow(/https/);
    expect(
      () => new OidcSignIn({ ...base, issuer: 'https://sso.corp.example', clientSecretEnv: 'NOPE' }, {}),
    ).toThrow(/NOPE is not set/);
  });
});
