/**
 * Contract v1.1, section 3: `revoke` disables the account first in every
 * connector; a failing later step (reading or removing groups and grants)
 * never keeps it enabled, and is retried until done. `reduce` removes what it
 * can classify as privileged even when an auxiliary read fails.
 *
 * Real peers throughout: the scimmy SCIM server with route faults, the
 * signature-checking webhook receiver failing some effects, the built-in
 * directory with an entry it cannot parse, driven by real BullMQ workers on the
 * test Redis. The runtime's clock is the test's: a person's day ends a minute
 * ahead, and once reduce is done and the faults are set the clock moves past
 * that end and the revoke job runs (test/helpers/clock.ts); retries and their
 * backoff run in real time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { hrEvent } from '../helpers/events.ts';
import { api } from '../helpers/http.ts';
import { runDue, TestClock } from '../helpers/clock.ts';
import { bearer, eventually, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';
import {
  effectEntries,
  milestones,
  milestoneState,
  offboardSoon,
  postHrEvent,
} from '../helpers/offboarding.ts';
import { type ScimTestServer, startScimServer } from '../helpers/scimServer.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';

const SECRET = `whsec_${Buffer.from('lastday-disable-first-secret-0123').toString('base64')}`;

let scim: ScimTestServer;
let receiver: WebhookReceiver;
let rt: Runtime;
const clock = new TestClock();

beforeAll(async () => {
  scim = await startScimServer();
  receiver = await startWebhookReceiver(SECRET);
  rt = await testRuntime(
    testSettings({
      // verify far away: these tests are about revoke and reduce.
      policy: { verifyAfterMinutes: 600 },
      connectors: [
        { type: 'directory' },
        {
          type: 'scim',
          name: 'idp',
          baseUrl: scim.url,
          tokenEnv: 'IDP_TOKEN',
          privilegedGroups: ['*-admins'],
          timeoutMs: 2_000,
        },
        { type: 'webhook', name: 'tools', url: receiver.url, secretEnv: 'TOOLS_SECRET', timeoutMs: 2_000 },
      ],
    }),
    { env: { IDP_TOKEN: scim.token, TOOLS_SECRET: SECRET }, now: clock.now },
  );
});
afterAll(async () => {
  await rt?.stop();
  await scim?.close();
  await receiver?.close();
});
beforeEach(() => {
  clock.reset();
  for (const k of Object.keys(scim.faults)) delete scim.faults[k as keyof typeof scim.faults];
  scim.userGroups = 'full';
  scim.valueOnlyGroups.clear();
  receiver.down = undefined;
  receiver.downOnly = undefined;
});

let n = 0;
function scimPerson() {
  n++;
  const personId = `df-${n}-${Math.random().toString(36).slice(2, 6)}`;
  const user = scim.addUser({ userName: personId });
  const admins = scim.addGroup(`ops-${n}-admins`, [user.id]);
  const staff = scim.addGroup(`staff-${n}`, [user.id]);
  return { personId, user, admins, staff };
}

/** A contractor whose day ends a minute ahead on the runtime's clock: reduce runs at once. */
const offboard = (personId: string) => offboardSoon(rt, personId, 60, { from: clock.now() });

/** Moves the clock to the end of `personId`'s day and lets their revoke job run. */
async function dayEnds(personId: string, soon: { endsAt: { toMillis(): number } }): Promise<void> {
  clock.reach(soon.endsAt);
  await runDue(rt, personId);
}

const ops = (changes: { op: string }[]) => changes.map((c) => c.op);
const active = (userId: string) => scim.store.users.get(userId)?.active;

describe('revoke disables first', () => {
  it('SCIM: the account is inactive at endsAt while GET /Groups answers 503; groups go once it recovers', async () => {
    const { personId, user, admins, staff } = scimPerson();
    // A server that does not list groups on Users: reading them means GET /Groups.
    scim.userGroups = 'omit';
    const soon = await offboard(personId);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done');
    expect(scim.groupsOf(user.id)).toEqual([staff.displayName]);

    scim.faults.rules = [{ method: 'GET', path: '/Groups', status: 503 }];
    await dayEnds(personId, soon);
    await eventually(async () => active(user.id) === false, 15_000);
    // Disabled and recorded, while the rest keeps failing.
    await eventually(async () => (await effectEntries(rt, personId, 'effect.disable', 'idp')).length === 1);
    expect(scim.groupsOf(user.id)).toEqual([staff.displayName]);
    expect(await milestoneState(rt, personId, 'revoke')).toBe('scheduled');
    expect(await effectEntries(rt, personId, 'effect.revoke', 'idp')).toHaveLength(0);
    await eventually(async () =>
      (await milestones(rt, personId)).find((m) => m.name === 'revoke')?.lastError?.includes('503'),
    );

    scim.faults.rules = [];
    await eventually(async () => (await milestoneState(rt, personId, 'revoke')) === 'done', 20_000);
    expect(scim.groupsOf(user.id)).toEqual([]);
    expect(ops(scim.changesFor(user.id, staff.id))).toEqual(['remove']);
    expect(ops(scim.changesFor(user.id, admins.id))).toEqual(['remove']);
    expect(scim.store.activeChanges.filter((a) => a.userId === user.id)).toEqual([
      { userId: user.id, active: false },
    ]);
    expect(await effectEntries(rt, personId, 'effect.disable', 'idp')).toHaveLength(1);
    const revokes = await effectEntries(rt, personId, 'effect.revoke', 'idp');
    expect(revokes).toHaveLength(1);
    expect(revokes[0]!.details).toMatchObject({ disabled: true, removed: [staff.id] });
    // The removed groups are kept as the snapshot a reinstatement restores.
    const record = await rt.ctx.effects.get<{ grants: { id: string }[] }>(personId, 'c1.revoke', 'idp');
    expect(record).toMatchObject({
      state: 'done',
      data: { grants: [expect.objectContaining({ id: staff.id })] },
    });
  });

  it('SCIM: group PATCHes answering 503, then applied-and-504, change nothing twice', async () => {
    const { personId, user, staff } = scimPerson();
    const soon = await offboard(personId);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done');
    scim.faults.rules = [{ method: 'PATCH', path: '/Groups', status: 503 }];
    await dayEnds(personId, soon);
    await eventually(async () => active(user.id) === false, 15_000);
    await eventually(async () =>
      scim.responses.some(
        (r) => r.method === 'PATCH' && r.path === `/Groups/${staff.id}` && r.status === 503,
      ),
    );
    expect(scim.groupsOf(user.id)).toEqual([staff.displayName]);

    scim.faults.rules = [{ method: 'PATCH', path: '/Groups', status: 504, applyFirst: true, count: 1 }];
    await eventually(async () => (await milestoneState(rt, personId, 'revoke')) === 'done', 20_000);
    expect(scim.responses.some((r) => r.path === `/Groups/${staff.id}` && r.status === 504)).toBe(true);
    expect(ops(scim.changesFor(user.id, staff.id))).toEqual(['remove']);
    expect(scim.store.activeChanges.filter((a) => a.userId === user.id)).toHaveLength(1);
    expect(await effectEntries(rt, personId, 'effect.disable', 'idp')).toHaveLength(1);
    expect(await effectEntries(rt, personId, 'effect.revoke', 'idp')).toHaveLength(1);
  });

  it('webhook: the receiver accepts the disable while verify and the cleanup fail; the cleanup lands once', async () => {
    const personId = `dfw-${++n}`;
    receiver.access.set(personId, {
      active: true,
      grants: [
        { id: 'billing-admin', role: 'admin', privileged: true },
        { id: 'wiki', role: 'reader', privileged: false },
      ],
    });
    const soon = await offboard(personId);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done');
    receiver.down = 503;
    receiver.downOnly = ['verify', 'revoke'];
    await dayEnds(personId, soon);
    await eventually(async () => receiver.access.get(personId)?.active === false, 15_000);
    expect(receiver.access.get(personId)?.grants.map((g) => g.id)).toEqual(['wiki']);
    await eventually(async () => (await effectEntries(rt, personId, 'effect.disable', 'tools')).length === 1);
    await eventually(async () =>
      receiver.attempts.some((a) => a.personId === personId && a.effect === 'revoke'),
    );
    expect(await milestoneState(rt, personId, 'revoke')).toBe('scheduled');

    receiver.down = undefined;
    await eventually(async () => (await milestoneState(rt, personId, 'revoke')) === 'done', 20_000);
    expect(receiver.access.get(personId)).toMatchObject({ active: false, grants: [] });
    const writes = receiver.appliedFor(personId).filter((e) => e !== 'verify');
    expect(writes).toEqual(['reduce', 'disable', 'revoke']);
    expect(await effectEntries(rt, personId, 'effect.disable', 'tools')).toHaveLength(1);
    const revokes = await effectEntries(rt, personId, 'effect.revoke', 'tools');
    expect(revokes).toHaveLength(1);
    expect(revokes[0]!.details).toMatchObject({ disabled: true, removed: ['wiki'] });
  });

  it('directory: a grant entry lastday cannot read does not keep the account enabled', async () => {
    const personId = `dfd-${++n}`;
    await rt.ctx.directory.put(
      personId,
      { active: true, grants: [{ id: 'g-read', system: 'cms', role: 'reader', privileged: false }] },
      new Date().toISOString(),
    );
    const soon = await offboard(personId);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done');
    // Written behind lastday's back (an older version, a hand edit): not JSON.
    await rt.ctx.redis.hset(rt.ctx.keys.directoryGrants(personId), 'g-legacy', 'admin;cms');
    await dayEnds(personId, soon);
    await eventually(
      async () => (await rt.ctx.redis.hget(rt.ctx.keys.directoryUser(personId), 'active')) === '0',
      15_000,
    );
    await eventually(async () => (await milestoneState(rt, personId, 'revoke')) === 'done', 20_000);
    expect(await rt.ctx.redis.hlen(rt.ctx.keys.directoryGrants(personId))).toBe(0);
    // The built-in directory disables and removes in one write: one entry says both.
    expect(await effectEntries(rt, personId, 'effect.disable', 'directory')).toHaveLength(0);
    const revokes = await effectEntries(rt, personId, 'effect.revoke', 'directory');
    expect(revokes).toHaveLength(1);
    expect(revokes[0]!.details.disabled).toBe(true);
    expect((revokes[0]!.details.removed as string[]).sort()).toEqual(['g-legacy', 'g-read']);
    expect(await rt.ctx.effects.get(personId, 'c1.disable', 'directory')).toMatchObject({
      state: 'disabled',
    });
  });

  it('counts a recorded disable as revoke having taken effect: a cancellation then restores nothing', async () => {
    const { personId, user, admins, staff } = scimPerson();
    scim.userGroups = 'omit';
    const soon = await offboard(personId);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done');
    scim.faults.rules = [{ method: 'GET', path: '/Groups', status: 503 }];
    await dayEnds(personId, soon);
    await eventually(async () => active(user.id) === false, 15_000);
    await eventually(async () => (await effectEntries(rt, personId, 'effect.disable', 'idp')).length === 1);

    await postHrEvent(rt, hrEvent({ personId, type: 'offboarding.cancelled', timezone: 'Europe/Berlin' }));
    const person = await eventually(async () => {
      const res = await api(rt.url!, 'GET', `/v1/people/${personId}`, undefined, bearer(TOKENS.viewer));
      const body = res.body as { status: string; reinstatement_required: boolean };
      return body.status === 'cancelled' ? body : undefined;
    });
    expect(person.reinstatement_required).toBe(true);
    scim.faults.rules = [];
    // Nothing re-enabled or put back automatically after revoke took effect.
    await new Promise((r) => setTimeout(r, 300));
    expect(active(user.id)).toBe(false);
    expect(ops(scim.changesFor(user.id, admins.id))).toEqual(['remove']);
    expect(scim.groupsOf(user.id)).toEqual([staff.displayName]);
  });
});

describe('reduce is not gated by reads it does not need', () => {
  it('SCIM: removes the privileged group while the name of another group cannot be read', async () => {
    const { personId, user, admins, staff } = scimPerson();
    // The staff membership is listed by id only, and reading that group fails.
    scim.valueOnlyGroups.add(staff.id);
    scim.faults.rules = [{ method: 'GET', path: `/Groups/${staff.id}`, status: 503 }];
    await offboardSoon(rt, personId, 3600);
    await eventually(async () => scim.groupsOf(user.id).join() === staff.displayName, 15_000);
    expect(await milestoneState(rt, personId, 'reduce')).toBe('scheduled');
    // The intent is on record before anything else happens.
    const pending = await rt.ctx.effects.get<{ grants: { id: string }[] }>(personId, 'c1.reduce', 'idp');
    expect(pending?.data.grants.map((g) => g.id)).toEqual([admins.id]);

    scim.faults.rules = [];
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done', 20_000);
    expect(scim.groupsOf(user.id)).toEqual([staff.displayName]);
    const reduces = await effectEntries(rt, personId, 'effect.reduce', 'idp');
    expect(reduces).toHaveLength(1);
    expect(reduces[0]!.details.removed).toEqual([admins.id]);
  });

  it('webhook: posts reduce while verify fails, and keeps what the receiver reports it removed', async () => {
    const personId = `dfr-${++n}`;
    receiver.access.set(personId, {
      active: true,
      grants: [
        { id: 'billing-admin', role: 'admin', privileged: true },
        { id: 'wiki', role: 'reader', privileged: false },
      ],
    });
    receiver.down = 503;
    receiver.downOnly = 'verify';
    await offboardSoon(rt, personId, 3600);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done', 15_000);
    expect(receiver.access.get(personId)?.grants.map((g) => g.id)).toEqual(['wiki']);
    const [reduce] = await effectEntries(rt, personId, 'effect.reduce', 'tools');
    expect(reduce!.details.removed).toEqual(['billing-admin']);
    const record = await rt.ctx.effects.get<{ grants: { id: string }[] }>(personId, 'c1.reduce', 'tools');
    expect(record?.data.grants.map((g) => g.id)).toEqual(['billing-admin']);
  });
});
