/**
 * The LDAP connector against a real slapd whose tree holds referrals (RFC
 * 4511 §4.5.3, objectClass `referral`): part of `ou=people` and of
 * `ou=groups` lives on another server. lastday does not chase referrals, so a
 * search that came back with only continuation references has not shown that
 * the person has no account there, and a group search that came back with
 * some has not shown every membership: neither may pass for a complete answer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/connectors/connector.ts';
import { LdapConnector } from '../../src/connectors/ldap.ts';
import { testLogger } from '../helpers/lastday.ts';
import { GROUPS, PEOPLE, SERVICE_DN, startTestSlapd, type TestSlapd } from '../helpers/slapd.ts';

const referral = (ou: string, parent: string) =>
  [
    `dn: ou=${ou},${parent}`,
    'objectClass: referral',
    'objectClass: extensibleObject',
    `ou: ${ou}`,
    `ref: ldap://emea.example.test/ou=${ou},${parent}`,
    '',
  ].join('\n');

let slapd: TestSlapd;
beforeAll(async () => {
  slapd = await startTestSlapd({ ldif: [referral('emea', PEOPLE), referral('emea', GROUPS)].join('\n') });
});
afterAll(async () => {
  await slapd?.close();
});

const open: LdapConnector[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

function connector(groupBaseDn = GROUPS): LdapConnector {
  const c = new LdapConnector(
    {
      name: 'corp',
      url: slapd.url,
      bindDn: SERVICE_DN,
      baseDn: PEOPLE,
      userFilter: '(&(objectClass=inetOrgPerson)(uid={id}))',
      groupBaseDn,
      privilegedGroups: ['*-admins'],
      flavor: 'openldap',
      timeoutMs: 2_000,
      concurrency: 2,
    },
    { password: slapd.servicePassword, log: testLogger(), retry: { baseDelayMs: 5, maxDelayMs: 20 } },
  );
  open.push(c);
  return c;
}

describe('ldap connector with referrals in the tree', () => {
  it('does not take a search answered only with referrals for "no account"', async () => {
    const c = connector();
    // The person's entry is on the server the referral names.
    for (const call of [() => c.disable({ id: 'emea-7' }), () => c.read({ id: 'emea-7' })]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(String(err)).toContain('referral');
      expect(String(err)).not.toContain('emea.example.test');
    }
  });

  it('does not report a membership list complete when the group search met a referral', async () => {
    const dn = `cn=Local Person,${PEOPLE}`;
    await slapd.admin(async (client) => {
      await client.add(dn, {
        objectClass: 'inetOrgPerson',
        cn: 'Local Person',
        sn: 'Test',
        uid: 'local-1',
        userPassword: 'pw-local-1',
      });
      await client.add(`cn=local-admins,${GROUPS}`, {
        objectClass: 'groupOfNames',
        cn: 'local-admins',
        member: [dn],
      });
    });
    // The account itself is found (the referral is beside it) and disabled.
    expect(await connector().disable({ id: 'local-1' })).toBe(true);
    await expect(connector().read({ id: 'local-1' })).rejects.toThrow(/referral/);
    // With groupBaseDn clear of referrals, the same person reads fine.
    const state = await connector(`cn=local-admins,${GROUPS}`).read({ id: 'local-1' });
    expect(state.grants.map((g) => g.role)).toEqual(['local-admins']);
    expect(state.active).toBe(false);
  });
});
