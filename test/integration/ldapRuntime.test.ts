/**
 * End to end through a real lastday runtime (HTTP intake, Redis, BullMQ
 * workers) with the ldap connector configured against a real slapd: an HR
 * event with a last day ending a minute ahead on lastday's clock; `reduce`
 * removes the privileged membership at once and leaves the account usable; at
 * the revoke instant (the test moves the clock there: test/helpers/clock.ts)
 * the account is locked (ppolicy), recorded once in the audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { PERMANENT_LOCK } from '../../src/connectors/ldapAccount.ts';
import { runDue, TestClock } from '../helpers/clock.ts';
import { eventually, testRuntime, testSettings } from '../helpers/lastday.ts';
import { effectEntries, milestoneState, offboardSoon } from '../helpers/offboarding.ts';
import { GROUPS, PEOPLE, SERVICE_DN, startTestSlapd, SUFFIX, type TestSlapd } from '../helpers/slapd.ts';

let slapd: TestSlapd;
let rt: Runtime;
const clock = new TestClock();

beforeAll(async () => {
  slapd = await startTestSlapd();
  rt = await testRuntime(
    testSettings({
      connectors: [
        {
          type: 'ldap',
          name: 'corp',
          url: slapd.url,
          bindDn: SERVICE_DN,
          passwordEnv: 'CORP_LDAP_PASSWORD',
          baseDn: PEOPLE,
          userFilter: '(&(objectClass=inetOrgPerson)(uid={id}))',
          groupBaseDn: GROUPS,
          privilegedGroups: ['*-admins'],
          flavor: 'openldap',
        },
      ],
    }),
    { env: { CORP_LDAP_PASSWORD: slapd.servicePassword }, now: clock.now },
  );
});
afterAll(async () => {
  await rt?.stop();
  await slapd?.close();
});

async function lockOf(dn: string): Promise<string[]> {
  return slapd.admin(async (c) => {
    const { searchEntries } = await c.search(dn, { scope: 'base', attributes: ['pwdAccountLockedTime'] });
    const v = searchEntries[0]?.pwdAccountLockedTime;
    return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String);
  });
}

async function memberValues(groupDn: string): Promise<string[]> {
  return slapd.admin(async (c) => {
    const { searchEntries } = await c.search(groupDn, { scope: 'base', attributes: ['member'] });
    const v = searchEntries[0]?.member ?? [];
    return (Array.isArray(v) ? v : [v]).map((m) => String(m).toLowerCase());
  });
}

describe('ldap connector in a running lastday', () => {
  it('reduces at once and locks the LDAP account at the revoke instant', async () => {
    const personId = 'ldap-e2e-1';
    const dn = `uid=${personId},${PEOPLE}`;
    const password = 'e2e-password';
    const admins = `cn=ops-admins,${GROUPS}`;
    const keeper = `cn=keeper,${SUFFIX}`;
    await slapd.admin(async (c) => {
      await c.add(dn, {
        objectClass: 'inetOrgPerson',
        uid: personId,
        cn: 'E2E',
        sn: 'Test',
        userPassword: password,
      });
      await c.add(admins, { objectClass: 'groupOfNames', cn: 'ops-admins', member: [dn, keeper] });
      await c.add(`cn=staff,${GROUPS}`, { objectClass: 'groupOfNames', cn: 'staff', member: [dn, keeper] });
    });

    const soon = await offboardSoon(rt, personId, 60, { from: clock.now() });
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done', 5_000);
    expect(await memberValues(admins)).toEqual([keeper]);
    // Before the revoke instant the account still works.
    expect(await milestoneState(rt, personId, 'revoke')).toBe('scheduled');
    expect(await lockOf(dn)).toEqual([]);
    expect(await slapd.canBind(dn, password)).toBe(true);

    clock.reach(soon.endsAt);
    await runDue(rt, personId);
    await eventually(async () => (await milestoneState(rt, personId, 'revoke')) === 'done', 20_000);
    expect(await lockOf(dn)).toEqual([PERMANENT_LOCK]);
    expect(await slapd.canBind(dn, password)).toBe(false);
    const revokes = await effectEntries(rt, personId, 'effect.revoke', 'corp');
    expect(revokes).toHaveLength(1);
    expect(Date.parse(revokes[0]!.at)).toBeGreaterThanOrEqual(soon.endsAt.toMillis());
    const reduces = await effectEntries(rt, personId, 'effect.reduce', 'corp');
    expect(reduces).toHaveLength(1);
    expect(reduces[0]!.details.removed).toEqual([admins]);
  });
});
