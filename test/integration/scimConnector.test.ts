/**
 * The SCIM connector on its own against a real SCIM server (scimmy +
 * scimmy-routers): matching, grants, idempotent writes and the failure modes
 * real servers show (noTarget, 404, 429, 503, apply-then-504, 401/403).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/connectors/connector.ts';
import type { ScimConnectorConfig } from '../../src/connectors/scim.ts';
import { eqFilter } from '../../src/connectors/scimFilter.ts';
import {
  scimConnectorFor,
  type ScimGroupRecord,
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

const fastRetry = { baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 2_000 };

function connector(overrides: Partial<ScimConnectorConfig> = {}, token = scim.token) {
  return scimConnectorFor(
    scim,
    { privilegedGroups: ['*-admins', 'Prod *'], ...overrides },
    { token, retry: fastRetry },
  );
}

let n = 0;
let user: ScimUserRecord;
let admins: ScimGroupRecord;
let prod: ScimGroupRecord;
let staff: ScimGroupRecord;
let person: { id: string; email: string };

beforeEach(() => {
  n++;
  scim.strictRemove = true;
  scim.userGroups = 'full';
  scim.valueOnlyGroups.clear();
  for (const k of Object.keys(scim.faults)) delete scim.faults[k as keyof typeof scim.faults];
  person = { id: `p-${n}`, email: `p${n}@example.com` };
  user = scim.addUser({
    userName: person.id,
    externalId: `ext-${n}`,
    emails: [{ value: person.email, primary: true }],
  });
  admins = scim.addGroup(`cms-${n}-admins`, [user.id]);
  prod = scim.addGroup(`Prod DB ${n}`, [user.id]);
  staff = scim.addGroup(`staff-${n}`, [user.id]);
});

describe('scim connector', () => {
  it('finds the user by each match attribute and maps groups to grants', async () => {
    for (const match of [
      { attribute: 'userName', from: 'id' },
      { attribute: 'externalId', from: 'id' },
      { attribute: 'emails', from: 'email' },
    ] as const) {
      const ref = match.attribute === 'externalId' ? { id: `ext-${n}` } : person;
      const state = await connector({ match }).read(ref);
      expect(state.exists).toBe(true);
      expect(state.active).toBe(true);
      expect(state.grants.sort((a, b) => a.role.localeCompare(b.role))).toEqual(
        [
          { id: admins.id, system: 'idp', role: admins.displayName, privileged: true },
          { id: prod.id, system: 'idp', role: prod.displayName, privileged: true },
          { id: staff.id, system: 'idp', role: staff.displayName, privileged: false },
        ].sort((a, b) => a.role.localeCompare(b.role)),
      );
    }
  });

  it('quotes filter values so a crafted id cannot match someone else', async () => {
    expect(eqFilter('userName', 'a"b\\c')).toBe('userName eq "a\\"b\\\\c"');
    scim.addUser({ userName: 'x" or userName pr "' });
    // RFC 7644 quotes as JSON strings; scimmy's parser refuses escaped quotes
    // (400 invalidFilter). Either answer is safe: never someone else's account.
    const result = await connector()
      .read({ id: 'nobody" or userName pr "' })
      .catch((e: unknown) => e);
    if (result instanceof ConnectorError) expect(result).toMatchObject({ retryable: false, status: 400 });
    else expect(result).toMatchObject({ exists: false });
  });

  it('reduces, restores, disables and enables, each change made once', async () => {
    const c = connector();
    const privileged = (await c.read(person)).grants.filter((g) => g.privileged);
    await c.removeGrants(person, privileged);
    await c.removeGrants(person, privileged); // a repeat: noTarget, confirmed by a read
    expect(scim.responses.filter((r) => r.path === `/Groups/${admins.id}`).map((r) => r.status)).toEqual([
      200, 400,
    ]);
    expect(scim.groupsOf(user.id)).toEqual([staff.displayName]);
    await c.restoreGrants(person, privileged);
    await c.restoreGrants(person, privileged); // a repeat: already there, nothing sent
    expect(scim.groupsOf(user.id).sort()).toEqual(
      [admins.displayName, prod.displayName, staff.displayName].sort(),
    );
    // disable touches the account only: no group is read or changed.
    const before = scim.requests.length;
    expect(await c.disable(person)).toBe(true);
    expect(await c.disable(person)).toBe(true);
    expect(scim.requests.slice(before).filter((r) => r.includes('/Groups'))).toEqual([]);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
    expect(scim.groupsOf(user.id)).toHaveLength(3);
    // What revoke then removes is what an inactive account still holds.
    const left = await c.read(person);
    expect(left).toMatchObject({ exists: true, active: false });
    await c.removeGrants(person, left.grants);
    expect(scim.groupsOf(user.id)).toEqual([]);
    for (const g of [admins, prod]) {
      expect(scim.changesFor(user.id, g.id).map((c) => c.op)).toEqual(['remove', 'add', 'remove']);
    }
    expect(scim.changesFor(user.id, staff.id).map((c) => c.op)).toEqual(['remove']);
    expect(scim.store.activeChanges.filter((a) => a.userId === user.id)).toHaveLength(1);
    expect(await c.read(person)).toEqual({ exists: true, active: false, grants: [] });

    expect(await c.enable(person)).toBe(true);
    expect(await c.enable(person)).toBe(true);
    expect(scim.store.activeChanges.filter((a) => a.userId === user.id).map((a) => a.active)).toEqual([
      false,
      true,
    ]);
  });

  it('keeps non-privileged groups on revoke when configured, without calling them drift', async () => {
    const c = connector({ removeAllGroupsOnRevoke: false });
    await c.disable(person);
    const left = await c.read(person);
    expect(left.grants.map((g) => g.id).sort()).toEqual([admins.id, prod.id].sort());
    await c.removeGrants(person, left.grants);
    expect(scim.groupsOf(user.id)).toEqual([staff.displayName]);
    expect(await c.read(person)).toEqual({ exists: true, active: false, grants: [] });
  });

  it('reads groups a server lists by id only, and reports those whose name it cannot read as unresolved', async () => {
    const c = connector();
    scim.valueOnlyGroups.add(admins.id);
    scim.valueOnlyGroups.add(staff.id);
    try {
      const named = await c.read(person);
      expect(named.grants.find((g) => g.id === admins.id)).toMatchObject({ privileged: true });
      expect(named.unresolved).toBeUndefined();
      scim.faults.rules = [{ method: 'GET', path: `/Groups/${staff.id}`, status: 503 }];
      const partial = await c.read(person);
      expect(partial.grants.map((g) => g.id).sort()).toEqual([admins.id, prod.id].sort());
      expect(partial.unresolved?.map((g) => g.id)).toEqual([staff.id]);
      // Once inactive with removeAllGroupsOnRevoke, a name no longer matters: it is all to go.
      await c.disable(person);
      const left = await c.read(person);
      expect(left.grants.map((g) => g.id).sort()).toEqual([admins.id, prod.id, staff.id].sort());
      expect(left.unresolved).toBeUndefined();
    } finally {
      scim.valueOnlyGroups.clear();
    }
  });

  it('lists groups through /Groups when Users do not carry them', async () => {
    const c = connector();
    scim.userGroups = 'omit';
    try {
      const state = await c.read(person);
      expect(state.grants.map((g) => g.role).sort()).toEqual(
        [admins.displayName, prod.displayName, staff.displayName].sort(),
      );
      expect(scim.requests.at(-1)).toBe('GET /Groups');
      scim.faults.rules = [{ method: 'GET', path: '/Groups', status: 503 }];
      await expect(c.read(person)).rejects.toMatchObject({ retryable: true, status: 503 });
      // …while disabling needs no group at all.
      expect(await c.disable(person)).toBe(true);
      expect(scim.store.users.get(user.id)?.active).toBe(false);
    } finally {
      scim.userGroups = 'full';
    }
  });

  it('treats a user that does not exist as nothing to do', async () => {
    const c = connector();
    const ghost = { id: 'ghost' };
    expect(await c.read(ghost)).toEqual({ exists: false, active: false, grants: [] });
    expect(await c.disable(ghost)).toBe(false);
    expect(await c.enable(ghost)).toBe(false);
    await c.removeGrants(ghost, [{ id: admins.id, system: 'idp', role: 'x', privileged: true }]);
  });

  it('waits out 429 with Retry-After and 503, then succeeds', async () => {
    const c = connector();
    scim.faults.failNext = { count: 1, status: 429, retryAfter: '1' };
    const started = Date.now();
    expect((await c.read(person)).exists).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    scim.faults.failNext = { count: 2, status: 503 };
    await c.disable(person);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
  });

  it('times out a request that hangs and retries it', async () => {
    const c = connector({ timeoutMs: 300 });
    scim.faults.stallNext = { count: 1, ms: 1_000 };
    expect((await c.read(person)).exists).toBe(true);
    scim.faults.stallNext = { count: 3, ms: 1_000 };
    const err = await c.read(person).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    expect(String(err)).toContain('timed out after 300 ms');
  });

  it('gives up in-call after a bounded number of tries with a retryable error', async () => {
    scim.faults.down = 503;
    const err = await connector()
      .read(person)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).retryable).toBe(true);
    expect((err as ConnectorError).status).toBe(503);
  });

  it('does not apply a change twice when the server applies it and answers 504', async () => {
    const c = connector();
    const privileged = (await c.read(person)).grants.filter((g) => g.privileged);
    scim.faults.applyThenFail = { count: 2 };
    await c.removeGrants(person, privileged);
    scim.faults.applyThenFail = { count: 2 };
    await c.restoreGrants(person, privileged);
    scim.faults.applyThenFail = { count: 1 };
    await c.disable(person);
    const left = await c.read(person);
    scim.faults.applyThenFail = { count: 3 };
    await c.removeGrants(person, left.grants);
    for (const g of [admins, prod]) {
      expect(scim.changesFor(user.id, g.id).map((c) => c.op)).toEqual(['remove', 'add', 'remove']);
    }
    expect(scim.changesFor(user.id, staff.id).map((c) => c.op)).toEqual(['remove']);
    expect(scim.store.activeChanges.filter((a) => a.userId === user.id)).toHaveLength(1);
  });

  it('fails without retry on refused credentials', async () => {
    const bad = await connector({}, 'wrong-token')
      .read(person)
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ retryable: false, status: 401 });
    expect(String(bad)).not.toContain('wrong-token');
    scim.faults.forbid = true;
    const before = scim.requests.length;
    const forbidden = await connector()
      .read(person)
      .catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ retryable: false, status: 403 });
    expect(scim.requests.length - before).toBe(1);
  });

  it('holds at most `concurrency` requests in flight', async () => {
    const c = connector({ concurrency: 2 });
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, c.http.inFlight)), 1);
    await Promise.all(Array.from({ length: 10 }, () => c.read(person)));
    clearInterval(timer);
    expect(peak).toBeLessThanOrEqual(2);
  });
});
