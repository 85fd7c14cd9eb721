/**
 * The SCIM connector against a real SCIM server (scimmy) that answers
 * halfway: a 200 whose body is not the ListResponse RFC 7644 §3.4.2 says (a
 * proxy's HTML page, `Resources` missing), a server that pages groups in
 * fewer than the 100 lastday asks for (§3.4.2.4 allows it), and a PATCH
 * answered 200 with the user still active. None of these may pass for "no
 * account", "no more groups" or "disabled".
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/connectors/connector.ts';
import {
  scimConnectorFor,
  type ScimTestServer,
  type ScimUserRecord,
  startScimServer,
} from '../helpers/scimServer.ts';

let scim: ScimTestServer;
beforeAll(async () => {
  scim = await startScimServer();
});
afterAll(async () => {
  await scim?.close();
});

function connector() {
  return scimConnectorFor(scim);
}

let n = 0;
let user: ScimUserRecord;
let person: { id: string };
beforeEach(() => {
  n++;
  scim.userGroups = 'full';
  scim.maxPageSize = undefined;
  scim.pagination = 'honour';
  for (const k of Object.keys(scim.faults)) delete scim.faults[k as keyof typeof scim.faults];
  person = { id: `half-${n}` };
  user = scim.addUser({ userName: person.id });
});

describe('scim connector against a server that answers halfway', () => {
  it('does not take a 200 search answer that is not a ListResponse for "no account"', async () => {
    const c = connector();
    const bodies = [
      { body: '<html><body>Sign in to continue</body></html>', contentType: 'text/html' },
      { body: JSON.stringify({ totalResults: 1 }), contentType: 'application/scim+json' },
      { body: '', contentType: 'application/scim+json' },
      { body: JSON.stringify({ totalResults: 1, Resources: [] }), contentType: 'application/scim+json' },
    ];
    for (const b of bodies) {
      scim.faults.rules = [{ method: 'GET', path: '/Users', status: 200, count: 1, ...b }];
      const err = await c.disable(person).catch((e: unknown) => e);
      expect(err, b.body).toBeInstanceOf(ConnectorError);
      expect(String(err)).toContain('search users');
      expect(String(err)).not.toContain('Sign in');
      expect(scim.store.users.get(user.id)?.active).toBe(true);
      scim.faults.rules = [{ method: 'GET', path: '/Users', status: 200, count: 1, ...b }];
      await expect(c.read(person)).rejects.toBeInstanceOf(ConnectorError);
    }
    // An empty ListResponse is still no account, and the real answer still disables.
    expect(await c.disable({ id: `nobody-${n}` })).toBe(false);
    expect(await c.disable(person)).toBe(true);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
  });

  it('reads every group from a server that pages fewer than asked', async () => {
    const c = connector();
    scim.userGroups = 'omit';
    scim.maxPageSize = 2;
    const groups = [1, 2, 3, 4, 5].map((i) => scim.addGroup(`g${n}-${i}-admins`, [user.id]));
    const state = await c.read(person);
    expect(state.grants.map((g) => g.id).sort()).toEqual(groups.map((g) => g.id).sort());
    await c.disable(person);
    await c.removeGrants(person, (await c.read(person)).grants);
    expect(scim.groupsOf(user.id)).toEqual([]);
    expect(scim.changesFor(user.id)).toHaveLength(5);
  });

  it('fails, rather than stop at the first page or loop, when the server ignores startIndex', async () => {
    const c = connector();
    scim.userGroups = 'omit';
    scim.maxPageSize = 2;
    scim.pagination = 'ignoreStartIndex';
    for (const i of [1, 2, 3]) scim.addGroup(`s${n}-${i}-admins`, [user.id]);
    const err = await c.read(person).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(String(err)).toContain('startIndex');
    // Disabling reads no group, so it still works.
    expect(await c.disable(person)).toBe(true);
  });

  it('fails a group search answered without Resources rather than report no groups', async () => {
    const c = connector();
    scim.userGroups = 'omit';
    scim.addGroup(`solo-${n}-admins`, [user.id]);
    scim.faults.rules = [
      {
        method: 'GET',
        path: '/Groups',
        status: 200,
        count: 1,
        body: JSON.stringify({ totalResults: 1 }),
        contentType: 'application/scim+json',
      },
    ];
    await expect(c.read(person)).rejects.toBeInstanceOf(ConnectorError);
    expect((await c.read(person)).grants).toHaveLength(1);
  });

  it('does not call a user disabled when the PATCH answer shows it still active', async () => {
    const c = connector();
    // A server that ignores the write (a mutability rule, a managed attribute) and says so.
    scim.faults.rules = [
      {
        method: 'PATCH',
        path: '/Users',
        status: 200,
        body: JSON.stringify({ id: user.id, userName: person.id, active: true }),
        contentType: 'application/scim+json',
      },
    ];
    const err = await c.disable(person).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(String(err)).toContain('still active');
    expect(scim.store.users.get(user.id)?.active).toBe(true);
    scim.faults.rules = [];
    expect(await c.disable(person)).toBe(true);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
  });
});
