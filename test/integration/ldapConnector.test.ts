/**
 * The LDAP connector on its own against a real OpenLDAP slapd (test/helpers/slapd.ts):
 * both flavors (OpenLDAP ppolicy lock, AD-flavoured userAccountControl),
 * memberships in groupOfNames, groupOfUniqueNames and AD `group`, every call
 * repeated to show it changes nothing the second time, filter and DN escaping,
 * refused credentials, a server that stops mid-way and one that never answers.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Attribute, Change, type Client } from 'ldapts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/app/embeddedRedis.ts';
import { ConfigError } from '../../src/config/load.ts';
import { ConnectorError } from '../../src/connectors/connector.ts';
import { LdapConnector, type LdapConnectorConfig } from '../../src/connectors/ldap.ts';
import { ACCOUNTDISABLE, PERMANENT_LOCK, setAccountEnabled } from '../../src/connectors/ldapAccount.ts';
import { createConnectors } from '../../src/connectors/registry.ts';
import { testLogger, testSettings } from '../helpers/lastday.ts';
import {
  AD_GROUPS,
  AD_USERS,
  GROUPS,
  PEOPLE,
  SERVICE_DN,
  startTestSlapd,
  SUFFIX,
  type TestSlapd,
} from '../helpers/slapd.ts';

let slapd: TestSlapd;
beforeAll(async () => {
  slapd = await startTestSlapd();
});
afterAll(async () => {
  await slapd?.close();
});

const open: LdapConnector[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

const fastRetry = { baseDelayMs: 5, maxDelayMs: 20 };

const FLAVORS = {
  openldap: { baseDn: PEOPLE, groupBaseDn: GROUPS, userFilter: '(&(objectClass=inetOrgPerson)(uid={id}))' },
  ad: { baseDn: AD_USERS, groupBaseDn: AD_GROUPS, userFilter: '(&(objectClass=user)(sAMAccountName={id}))' },
} as const;

function connector(
  flavor: 'openldap' | 'ad',
  overrides: Partial<LdapConnectorConfig> = {},
  password = slapd.servicePassword,
): LdapConnector {
  const c = new LdapConnector(
    {
      name: 'corp',
      url: slapd.url,
      bindDn: SERVICE_DN,
      ...FLAVORS[flavor],
      privilegedGroups: ['*-admins', 'Prod *'],
      flavor,
      timeoutMs: 2_000,
      concurrency: 2,
      ...overrides,
    },
    { password, log: testLogger(), retry: fastRetry },
  );
  open.push(c);
  return c;
}

// ---- fixtures, written as the rootdn ---------------------------------------

let n = 0;

interface Person {
  id: string;
  dn: string;
  password: string;
  email: string;
}

/** An OpenLDAP inetOrgPerson, or an AD-style `user` with userAccountControl `uac`. */
async function addPerson(
  flavor: 'openldap' | 'ad',
  id: string,
  options: { rdn?: string; uac?: number } = {},
): Promise<Person> {
  const password = `pw-${id.length}-${++n}`;
  const email = `person${n}@example.test`;
  const cn = options.rdn ?? `Person ${n}`;
  const rdn = `cn=${escapeRdn(cn)}`;
  const dn = `${rdn},${flavor === 'ad' ? AD_USERS : PEOPLE}`;
  await slapd.admin((c) =>
    c.add(
      dn,
      flavor === 'ad'
        ? {
            objectClass: 'user',
            cn,
            sn: 'Test',
            sAMAccountName: id,
            mail: email,
            userAccountControl: String(options.uac ?? 512),
            userPassword: password,
          }
        : { objectClass: 'inetOrgPerson', cn, sn: 'Test', uid: id, mail: email, userPassword: password },
    ),
  );
  return { id, dn, password, email };
}

/** RFC 4514 escaping of an RDN value, for the fixtures. */
function escapeRdn(value: string): string {
  return value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/^([ #])/, '\\$1');
}

type GroupKind = 'groupOfNames' | 'groupOfUniqueNames' | 'group';

async function addGroup(kind: GroupKind, cn: string, members: string[], parent?: string): Promise<string> {
  const dn = `cn=${escapeRdn(cn)},${parent ?? (kind === 'group' ? AD_GROUPS : GROUPS)}`;
  const attr = kind === 'groupOfUniqueNames' ? 'uniqueMember' : 'member';
  await slapd.admin((c) => c.add(dn, { objectClass: kind, cn, [attr]: members }));
  return dn;
}

/** An attribute of an entry as the server holds it now. */
async function attr(dn: string, name: string): Promise<string[]> {
  return slapd.admin(async (c) => {
    const { searchEntries } = await c.search(dn, { scope: 'base', attributes: [name] });
    const v = searchEntries[0]?.[name];
    return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String);
  });
}

/** entryCSN changes with every write to an entry: equal before and after means nothing was written. */
async function csn(dn: string): Promise<string> {
  return (await attr(dn, 'entryCSN'))[0]!;
}

async function members(groupDn: string): Promise<string[]> {
  const all = [...(await attr(groupDn, 'member')), ...(await attr(groupDn, 'uniqueMember'))];
  return all.map((m) => m.toLowerCase());
}

const byRole = <T extends { role: string }>(list: T[]) =>
  [...list].sort((a, b) => a.role.localeCompare(b.role));

// ---- OpenLDAP --------------------------------------------------------------

describe('ldap connector, OpenLDAP flavor', () => {
  it('reads the account and its memberships under groupBaseDn, privileged by cn glob', async () => {
    const p = await addPerson('openldap', `ol-read-${++n}`);
    const other = await addPerson('openldap', `ol-other-${n}`);
    const admins = await addGroup('groupOfNames', `cms-${n}-admins`, [p.dn, other.dn]);
    const prod = await addGroup('groupOfUniqueNames', `Prod DB ${n}`, [p.dn]);
    const staff = await addGroup('groupOfNames', `staff-${n}`, [p.dn]);
    await addGroup('groupOfNames', `others-${n}`, [other.dn]);
    await addGroup('groupOfNames', `outside-${n}-admins`, [p.dn], `ou=groups,ou=ad,${SUFFIX}`);

    const state = await connector('openldap').read({ id: p.id });
    expect(state.exists).toBe(true);
    expect(state.active).toBe(true);
    expect(byRole(state.grants)).toEqual(
      byRole([
        { id: admins, system: 'corp', role: `cms-${n}-admins`, privileged: true },
        { id: prod, system: 'corp', role: `Prod DB ${n}`, privileged: true },
        { id: staff, system: 'corp', role: `staff-${n}`, privileged: false },
      ]),
    );
    expect(await connector('openldap').read({ id: 'nobody-here' })).toEqual({
      exists: false,
      active: false,
      grants: [],
    });
  });

  it('reduces, restores, revokes (disable first, then the rest), verifies and re-enables; every repeat is a no-op', async () => {
    const c = connector('openldap');
    const p = await addPerson('openldap', `ol-cycle-${++n}`);
    const admins = await addGroup('groupOfNames', `ops-${n}-admins`, [p.dn, `cn=keeper,${SUFFIX}`]);
    const prod = await addGroup('groupOfUniqueNames', `Prod ${n}`, [p.dn, `cn=keeper,${SUFFIX}`]);
    const staff = await addGroup('groupOfNames', `staff-${n}`, [p.dn, `cn=keeper,${SUFFIX}`]);
    const me = p.dn.toLowerCase();

    // reduce: privileged memberships only.
    const privileged = (await c.read(p)).grants.filter((g) => g.privileged);
    expect(privileged.map((g) => g.id).sort()).toEqual([admins, prod].sort());
    await c.removeGrants(p, privileged);
    const afterReduce = [await csn(admins), await csn(prod)];
    await c.removeGrants(p, privileged);
    expect([await csn(admins), await csn(prod)]).toEqual(afterReduce);
    expect(await members(admins)).not.toContain(me);
    expect(await members(prod)).not.toContain(me);
    expect(await members(staff)).toContain(me);

    // restore (an extension): re-added once.
    await c.restoreGrants(p, privileged);
    const afterRestore = [await csn(admins), await csn(prod)];
    await c.restoreGrants(p, privileged);
    expect([await csn(admins), await csn(prod)]).toEqual(afterRestore);
    expect(await members(admins)).toContain(me);
    expect(await members(prod)).toContain(me);

    // revoke: disable the account first (groups untouched), then remove what is left.
    expect(await slapd.canBind(p.dn, p.password)).toBe(true);
    expect(await c.disable(p)).toBe(true);
    expect(await c.disable({ id: 'nobody-here' })).toBe(false);
    expect(await attr(p.dn, 'pwdAccountLockedTime')).toEqual([PERMANENT_LOCK]);
    expect(await slapd.canBind(p.dn, p.password)).toBe(false);
    expect(await members(staff)).toContain(me);
    const locked = await csn(p.dn);
    await c.disable(p);
    expect(await csn(p.dn)).toBe(locked);
    const left = await c.read(p);
    expect(left.active).toBe(false);
    expect(left.grants.map((g) => g.id).sort()).toEqual([admins, prod, staff].sort());
    await c.removeGrants(p, left.grants);

    // verify: read back, nothing left.
    expect(await c.read(p)).toEqual({ exists: true, active: false, grants: [] });
    for (const g of [admins, prod, staff]) expect(await members(g)).toEqual([`cn=keeper,${SUFFIX}`]);

    // reinstatement: enable and restore, each once.
    await c.enable(p);
    expect(await attr(p.dn, 'pwdAccountLockedTime')).toEqual([]);
    expect(await slapd.canBind(p.dn, p.password)).toBe(true);
    const enabled = await csn(p.dn);
    await c.enable(p);
    expect(await csn(p.dn)).toBe(enabled);
    await c.restoreGrants(p, left.grants);
    expect(await c.read(p)).toMatchObject({ active: true, grants: expect.arrayContaining(left.grants) });
  });

  it('replaces a temporary lockout by the permanent lock, and leaves a lockout it did not set when enabling', async () => {
    const c = connector('openldap');
    const p = await addPerson('openldap', `ol-lockout-${++n}`);
    const lockout = (value: string) =>
      slapd.admin((a) =>
        a.modify(
          p.dn,
          new Change({
            operation: 'replace',
            modification: new Attribute({ type: 'pwdAccountLockedTime', values: [value] }),
          }),
        ),
      );
    await lockout('20260101000000Z'); // too many failed binds: expires with pwdLockoutDuration
    expect((await c.read(p)).active).toBe(true);
    await c.disable(p);
    expect(await attr(p.dn, 'pwdAccountLockedTime')).toEqual([PERMANENT_LOCK]);
    await c.enable(p);
    await lockout('20260101000000Z');
    await c.enable(p);
    expect(await attr(p.dn, 'pwdAccountLockedTime')).toEqual(['20260101000000Z']);
  });

  it('refuses to remove the last member of a groupOfNames, naming the group (not retryable)', async () => {
    const c = connector('openldap');
    const p = await addPerson('openldap', `ol-last-${++n}`);
    const only = await addGroup('groupOfNames', `solo-${n}-admins`, [p.dn]);
    const err = await c.removeGrants(p, (await c.read(p)).grants).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ retryable: false, status: 65 });
    expect((err as Error).message).toContain(only);
    expect((err as Error).message).toContain('last member');
  });

  it('says so when flavor "ad" meets a directory without userAccountControl (not retryable)', async () => {
    const p = await addPerson('openldap', `ol-flavor-${++n}`);
    const c = connector('ad', { baseDn: PEOPLE, userFilter: '(uid={id})' });
    const err = await c.disable(p).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(/^corp: .*userAccountControl.*flavor/);
    expect(await slapd.canBind(p.dn, p.password)).toBe(true);
  });

  it('finds people by {email}, and refuses a person without one', async () => {
    const c = connector('openldap', { userFilter: '(mail={email})' });
    const p = await addPerson('openldap', `ol-mail-${++n}`);
    expect((await c.read({ id: 'whatever', email: p.email })).exists).toBe(true);
    await expect(c.read({ id: p.id })).rejects.toMatchObject({ retryable: false });
  });
});

// ---- AD-flavoured ------------------------------------------------------------

describe('ldap connector, Active Directory flavor', () => {
  it('disables with userAccountControl bit 2 keeping the other bits, enables by clearing it, once each', async () => {
    const c = connector('ad');
    const DONT_EXPIRE_PASSWORD = 0x10000;
    const NORMAL_ACCOUNT = 0x200;
    const start = NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD;
    const p = await addPerson('ad', `ad-uac-${++n}`, { uac: start });
    const admins = await addGroup('group', `Domain ${n}-Admins`, [p.dn]);
    const staff = await addGroup('group', `staff-${n}`, [p.dn, `cn=keeper,${SUFFIX}`]);

    const state = await c.read(p);
    expect(state).toMatchObject({ exists: true, active: true });
    expect(byRole(state.grants)).toEqual(
      byRole([
        { id: admins, system: 'corp', role: `Domain ${n}-Admins`, privileged: true },
        { id: staff, system: 'corp', role: `staff-${n}`, privileged: false },
      ]),
    );

    // reduce and restore. AD groups may be left empty.
    await c.removeGrants(
      p,
      state.grants.filter((g) => g.privileged),
    );
    expect(await attr(admins, 'member')).toEqual([]);
    await c.restoreGrants(
      p,
      state.grants.filter((g) => g.privileged),
    );
    await c.restoreGrants(
      p,
      state.grants.filter((g) => g.privileged),
    );
    expect((await members(admins)).length).toBe(1);

    await c.disable(p);
    expect(await attr(p.dn, 'userAccountControl')).toEqual([String(start | ACCOUNTDISABLE)]);
    expect((await c.read(p)).active).toBe(false);
    const disabled = await csn(p.dn);
    await c.disable(p);
    expect(await csn(p.dn)).toBe(disabled);
    await c.removeGrants(p, (await c.read(p)).grants);
    expect(await c.read(p)).toEqual({ exists: true, active: false, grants: [] });

    await c.enable(p);
    expect(await attr(p.dn, 'userAccountControl')).toEqual([String(start)]);
    const enabled = await csn(p.dn);
    await c.enable(p);
    expect(await csn(p.dn)).toBe(enabled);
    expect((await c.read(p)).active).toBe(true);
  });

  it('does not overwrite a userAccountControl change made between its read and its write', async () => {
    const p = await addPerson('ad', `ad-race-${++n}`, { uac: 512 });
    const stale = { dn: p.dn, userAccountControl: '512' };
    // Someone sets "password never expires" after our read.
    await slapd.admin((a) =>
      a.modify(
        p.dn,
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'userAccountControl', values: [String(512 | 0x10000)] }),
        }),
      ),
    );
    let rereads = 0;
    await slapd.admin(async (a: Client) => {
      const changed = await setAccountEnabled('corp', a, 'ad', stale, false, async () => {
        rereads++;
        const { searchEntries } = await a.search(p.dn, { scope: 'base', attributes: ['userAccountControl'] });
        return searchEntries[0];
      });
      expect(changed).toBe(true);
    });
    expect(rereads).toBe(1);
    expect(await attr(p.dn, 'userAccountControl')).toEqual([String(512 | 0x10000 | ACCOUNTDISABLE)]);
  });
});

// ---- escaping --------------------------------------------------------------

describe('ldap connector, ids and DNs with special characters', () => {
  it('escapes filter values (RFC 4515): * ( ) \\ in an id match only that id', async () => {
    const c = connector('openldap');
    const tricky = await addPerson('openldap', 'jd*(x)\\y', { rdn: `Doe, Jane + "Q" <ops>; \\ * #${++n}` });
    await addPerson('openldap', `jdA(x)\\y`);
    await addPerson('openldap', `star-a-${n}`);
    await addPerson('openldap', `star-b-${n}`);
    const admins = await addGroup('groupOfNames', `Prod EU, (admins) \\ * ${n}`, [
      tricky.dn,
      `cn=k,${SUFFIX}`,
    ]);
    await addGroup('groupOfUniqueNames', `staff (all) ${n}`, [tricky.dn, `cn=k,${SUFFIX}`]);

    const state = await c.read({ id: 'jd*(x)\\y' });
    expect(state.exists).toBe(true);
    expect(state.grants.map((g) => g.role).sort()).toEqual([
      `Prod EU, (admins) \\ * ${n}`,
      `staff (all) ${n}`,
    ]);
    // Grant ids are the DNs as the server spells them (it may escape differently than we did).
    expect(state.grants.find((g) => g.role.startsWith('Prod'))?.privileged).toBe(true);
    expect(state.grants.find((g) => g.role.startsWith('staff'))?.privileged).toBe(false);

    // Unescaped, these would match everyone, several people, or inject a clause.
    for (const id of ['*', `star-*-${n}`, 'x)(uid=*', '*)(|(uid=*', 'jd\\2a\\28x\\29\\5cy']) {
      expect((await c.read({ id })).exists, id).toBe(false);
    }

    // The whole cycle on the DN with , + " < > ; \ * in it.
    await c.removeGrants(
      tricky,
      state.grants.filter((g) => g.privileged),
    );
    expect(await members(admins)).toEqual([`cn=k,${SUFFIX}`]);
    await c.restoreGrants(
      tricky,
      state.grants.filter((g) => g.privileged),
    );
    await c.disable(tricky);
    expect(await slapd.canBind(tricky.dn, tricky.password)).toBe(false);
    await c.removeGrants(tricky, (await c.read(tricky)).grants);
    expect(await c.read({ id: tricky.id })).toEqual({ exists: true, active: false, grants: [] });
    await c.enable(tricky);
    expect(await slapd.canBind(tricky.dn, tricky.password)).toBe(true);
  });

  it('finds ids with spaces, accents and emoji as they are', async () => {
    const c = connector('openldap');
    const p = await addPerson('openldap', `zoë müller-ßø 🙂 ${++n}`, { rdn: `Zoë Müller ${n}` });
    await addGroup('groupOfNames', `équipe-${n}-admins`, [p.dn, `cn=k,${SUFFIX}`]);
    const state = await c.read({ id: p.id });
    expect(state).toMatchObject({ exists: true, active: true });
    expect(state.grants.map((g) => [g.role, g.privileged])).toEqual([[`équipe-${n}-admins`, true]]);
    expect((await c.read({ id: `zoe muller-sso 🙂 ${n}` })).exists).toBe(false);
  });

  it('refuses to guess when the filter matches more than one entry', async () => {
    const c = connector('openldap', { userFilter: '(|(uid={id})(sn=Test))' });
    await addPerson('openldap', `dup-${++n}`);
    await expect(c.read({ id: `dup-${n}` })).rejects.toMatchObject({ retryable: false });
  });
});

// ---- failures ----------------------------------------------------------------

describe('ldap connector, failures', () => {
  it('reports a wrong bind password as non-retryable, naming the bind DN and never the password', async () => {
    const c = connector('openldap', {}, 'not-the-password');
    const err = await c.read({ id: 'anyone' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ retryable: false, status: 49 });
    expect((err as Error).message).toContain(SERVICE_DN);
    expect((err as Error).message).not.toContain('not-the-password');
  });

  it('fails retryably while the server is down, and succeeds once it is back', async () => {
    const c = connector('openldap');
    const p = await addPerson('openldap', `ol-down-${++n}`);
    await addGroup('groupOfNames', `down-${n}-admins`, [p.dn, `cn=k,${SUFFIX}`]);
    const privileged = (await c.read(p)).grants.filter((g) => g.privileged); // a pooled, bound connection
    await slapd.stop();
    try {
      const err = await c.disable(p).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ retryable: true });
      await expect(c.removeGrants(p, privileged)).rejects.toMatchObject({ retryable: true });
    } finally {
      await slapd.start();
    }
    await c.disable(p);
    await c.removeGrants(p, privileged);
    expect(await c.read(p)).toEqual({ exists: true, active: false, grants: [] });
    expect(await slapd.canBind(p.dn, p.password)).toBe(false);
  });

  it('times out against a server that never answers (retryable)', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    try {
      const c = connector('openldap', { url: `ldap://127.0.0.1:${port}`, timeoutMs: 200 });
      const err = await c.read({ id: 'anyone' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ retryable: true });
      expect((err as Error).message).toMatch(/timed out|timeout/i);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

// ---- configuration -----------------------------------------------------------

describe('ldap connector config', () => {
  const ldap = {
    type: 'ldap',
    name: 'corp',
    url: 'ldap://127.0.0.1:389',
    bindDn: SERVICE_DN,
    passwordEnv: 'CORP_LDAP_PASSWORD',
    baseDn: PEOPLE,
    userFilter: '(uid={id})',
  };
  const build = (cfg: Record<string, unknown>, env: Record<string, string>) =>
    createConnectors(testSettings({ connectors: [cfg] }).config.connectors, {
      directory: undefined as never,
      now: () => new Date(),
      env,
      log: testLogger(),
    });

  it('stops start-up naming passwordEnv when the variable is unset, and userFilter when it does not parse', () => {
    let err: unknown;
    try {
      build({ ...ldap, userFilter: '(&(uid={id})' }, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).message;
    expect(lines).toContain('connectors.0.passwordEnv: environment variable CORP_LDAP_PASSWORD is not set');
    expect(lines).toMatch(/connectors\.0\.userFilter: /);
  });

  it('builds the connector with the password from the environment', async () => {
    const [c] = build(ldap, { CORP_LDAP_PASSWORD: 's3cret' });
    expect(c).toBeInstanceOf(LdapConnector);
    expect(c).toMatchObject({ name: 'corp', type: 'ldap' });
    await c!.close?.();
  });
});
