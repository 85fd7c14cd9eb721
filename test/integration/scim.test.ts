/**
 * Whole offboardings with a SCIM connector next to the built-in directory, on
 * real Redis, real BullMQ workers and a real SCIM server (scimmy): reduce,
 * revoke and verify land in the SCIM server; an extension restores; repeats,
 * missing users, rate limits, outages and lost answers change nothing twice.
 * The first whole timeline runs in real time; the others move lastday's clock
 * from one milestone to the next (test/helpers/clock.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { hrEvent } from '../helpers/events.ts';
import { runPlan, TestClock } from '../helpers/clock.ts';
import { eventually, testRuntime, testSettings } from '../helpers/lastday.ts';
import {
  allDone,
  auditOf,
  effectEntries,
  milestoneState,
  offboardSoon,
  postHrEvent,
} from '../helpers/offboarding.ts';
import { type ScimTestServer, startScimServer } from '../helpers/scimServer.ts';

let scim: ScimTestServer;
let rt: Runtime;
/** lastday's clock: real time, moved by the tests that run a plan to its end (runPlan). */
const clock = new TestClock();

beforeAll(async () => {
  scim = await startScimServer();
  rt = await testRuntime(
    testSettings({
      policy: { verifyAfterMinutes: 0.02 },
      connectors: [
        { type: 'directory' },
        {
          type: 'scim',
          name: 'idp',
          baseUrl: scim.url,
          tokenEnv: 'IDP_SCIM_TOKEN',
          privilegedGroups: ['*-admins', 'prod-*'],
          timeoutMs: 2_000,
        },
      ],
    }),
    { env: { IDP_SCIM_TOKEN: scim.token }, now: clock.now },
  );
});
afterAll(async () => {
  await rt?.stop();
  await scim?.close();
});
beforeEach(() => {
  clock.reset();
  for (const k of Object.keys(scim.faults)) delete scim.faults[k as keyof typeof scim.faults];
  scim.onRequest = undefined;
});

let n = 0;
/** A SCIM user in an admin group, a prod group and a staff group. */
function seed() {
  n++;
  const personId = `scim-${n}-${Math.random().toString(36).slice(2, 6)}`;
  const user = scim.addUser({ userName: personId });
  const admins = scim.addGroup(`cms-${n}-admins`, [user.id]);
  const prod = scim.addGroup(`prod-${n}`, [user.id]);
  const staff = scim.addGroup(`staff-${n}`, [user.id]);
  return { personId, user, admins, prod, staff };
}

const ops = (changes: { op: string }[]) => changes.map((c) => c.op);

describe('SCIM connector in a whole timeline', () => {
  it('reduces privileged groups at once, disables and empties the account at the end, verifies', async () => {
    const { personId, user, admins, prod, staff } = seed();
    const soon = await offboardSoon(rt, personId, 3);

    await eventually(async () => scim.groupsOf(user.id).join() === staff.displayName);
    expect(scim.store.users.get(user.id)?.active).toBe(true);

    await eventually(() => allDone(rt, personId), 20_000);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
    expect(scim.groupsOf(user.id)).toEqual([]);
    const revokedAt = scim.store.activeChanges.find((a) => a.userId === user.id);
    expect(revokedAt).toBeDefined();

    const [reduce] = await effectEntries(rt, personId, 'effect.reduce', 'idp');
    expect((reduce!.details.removed as string[]).sort()).toEqual([admins.id, prod.id].sort());
    // Disabled first (its own record and audit entry), then the rest removed.
    const [disable] = await effectEntries(rt, personId, 'effect.disable', 'idp');
    expect(disable!.details).toMatchObject({ disabled: true });
    expect(Date.parse(disable!.at)).toBeGreaterThanOrEqual(soon.endsAt.toMillis());
    const [revoke] = await effectEntries(rt, personId, 'effect.revoke', 'idp');
    expect(revoke!.details).toMatchObject({ disabled: true, removed: [staff.id] });
    expect(revoke!.seq).toBeGreaterThan(disable!.seq);
    const [verify] = await effectEntries(rt, personId, 'effect.verify', 'idp');
    expect(verify!.details).toMatchObject({ drift: false, active: false, grants: [] });
    // Every membership changed exactly once.
    expect(ops(scim.changesFor(user.id, admins.id))).toEqual(['remove']);
    expect(ops(scim.changesFor(user.id, staff.id))).toEqual(['remove']);
  });

  it('puts the privileged groups back when the last day moves out', async () => {
    const { personId, user, admins, prod, staff } = seed();
    await offboardSoon(rt, personId, 3600);
    await eventually(async () => scim.groupsOf(user.id).join() === staff.displayName);

    await postHrEvent(rt, hrEvent({ personId, lastDay: '2027-06-30', timezone: 'Europe/Berlin' }));
    await eventually(async () => scim.groupsOf(user.id).length === 3);
    expect(scim.groupsOf(user.id).sort()).toEqual(
      [admins.displayName, prod.displayName, staff.displayName].sort(),
    );
    expect(ops(scim.changesFor(user.id, admins.id))).toEqual(['remove', 'add']);
    expect(ops(scim.changesFor(user.id, prod.id))).toEqual(['remove', 'add']);
    expect(await milestoneState(rt, personId, 'reduce')).toBe('scheduled');
    const [restore] = await effectEntries(rt, personId, 'effect.restore', 'idp');
    expect((restore!.details.restored as string[]).sort()).toEqual([admins.id, prod.id].sort());
  });

  it('takes noTarget on a removal that already happened as done, after a read confirms it', async () => {
    const { personId, user, admins, staff } = seed();
    // The member disappears between lastday's read and its PATCH (another
    // admin, or an earlier try whose answer was lost): the server says noTarget.
    scim.onRequest = (method, path) => {
      if (method === 'PATCH' && path === `/Groups/${admins.id}`) {
        scim.removeMemberDirect(admins.id, user.id);
        scim.onRequest = undefined;
      }
    };
    await offboardSoon(rt, personId, 3600);
    await eventually(async () => scim.groupsOf(user.id).join() === staff.displayName);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done');
    expect(
      scim.responses.some(
        (r) => r.method === 'PATCH' && r.path === `/Groups/${admins.id}` && r.status === 400,
      ),
    ).toBe(true);
    expect(ops(scim.changesFor(user.id, admins.id))).toEqual(['remove']);
    const reduces = await effectEntries(rt, personId, 'effect.reduce', 'idp');
    expect(reduces).toHaveLength(1);
    const record = await rt.ctx.people.get(personId);
    expect(record?.milestones.find((m) => m.name === 'reduce')?.lastError).toBeUndefined();
  });

  it('records a person with no SCIM account as not found, without retrying', async () => {
    const personId = `nobody-${Math.random().toString(36).slice(2, 8)}`;
    const before = scim.requests.length;
    await offboardSoon(rt, personId, 60, { from: clock.now() });
    await runPlan(rt, clock, personId);
    const audit = await auditOf(rt, personId);
    const idp = audit.filter((e) => e.details.connector === 'idp');
    expect(idp.map((e) => [e.type, e.details.result ?? e.details.drift])).toEqual([
      ['effect.reduce', 'not_found'],
      ['effect.revoke', 'not_found'],
      ['effect.verify', false],
    ]);
    expect(audit.some((e) => e.type.startsWith('alert.'))).toBe(false);
    // One user search per milestone: no error loop.
    expect(scim.requests.length - before).toBe(3);
  });

  it('rides out 429 with Retry-After and 503 for a while', async () => {
    const { personId, user, staff } = seed();
    scim.faults.failNext = { count: 2, status: 429, retryAfter: '1' };
    await offboardSoon(rt, personId, 60, { from: clock.now() });
    await eventually(async () => scim.groupsOf(user.id).join() === staff.displayName, 15_000);
    // Longer than one job's in-call tries: the milestone job itself retries.
    scim.faults.failNext = { count: 6, status: 503 };
    await runPlan(rt, clock, personId, 30_000);
    expect(scim.faults.failNext.count).toBe(0);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
    expect(scim.groupsOf(user.id)).toEqual([]);
    expect(scim.store.activeChanges.filter((a) => a.userId === user.id)).toHaveLength(1);
    const statuses = scim.responses.map((r) => r.status);
    expect(statuses).toContain(429);
    expect(statuses).toContain(503);
  });

  it('fails and alerts at once when the server refuses the token, and completes once it accepts it', async () => {
    const { personId, user, staff } = seed();
    scim.faults.forbid = true;
    await offboardSoon(rt, personId, 3600);
    // failAfterMinutes is the default 15: only a non-retryable error fails this soon.
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'failed');
    // The alert is raised after the failure is saved (a write of its own): wait for it too.
    const alertsOf = async () =>
      (await auditOf(rt, personId)).filter((e) => e.type === 'alert.milestone_failed');
    await eventually(async () => (await alertsOf()).length > 0);
    const alerts = await alertsOf();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details.connectors).toContainEqual(
      expect.objectContaining({ connector: 'idp', status: 'failed', retryable: false }),
    );
    scim.faults.forbid = false;
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done', 15_000);
    expect(scim.groupsOf(user.id)).toEqual([staff.displayName]);
  });

  it('does not apply a change twice when the server applies it and then answers 504', async () => {
    const { personId, user, admins, prod, staff } = seed();
    scim.faults.applyThenFailEvery = 2; // half the writes: applied, then 504
    await offboardSoon(rt, personId, 60, { from: clock.now() });
    await runPlan(rt, clock, personId, 30_000);
    expect(scim.responses.some((r) => r.status === 504)).toBe(true);
    for (const g of [admins, prod, staff]) expect(ops(scim.changesFor(user.id, g.id))).toEqual(['remove']);
    expect(scim.store.activeChanges.filter((a) => a.userId === user.id)).toEqual([
      { userId: user.id, active: false },
    ]);
    expect(await effectEntries(rt, personId, 'effect.revoke', 'idp')).toHaveLength(1);
  });

  it('keeps what a refusing server says out of the audit and lastError', async () => {
    const { personId } = seed();
    // A server that echoes the credentials it was sent, and more, in its error detail.
    const leak = `token ${scim.token} rejected; internal trace at /srv/scim/app.py:42`;
    scim.faults.rules = [
      { method: 'PATCH', path: '/Groups', status: 400, scimType: 'invalidValue', detail: leak },
    ];
    await offboardSoon(rt, personId, 3600);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'failed');
    const record = await rt.ctx.people.get(personId);
    const lastError = record?.milestones.find((m) => m.name === 'reduce')?.lastError ?? '';
    expect(lastError).toContain('400 Bad Request (invalidValue)');
    const audit = JSON.stringify(await auditOf(rt, personId));
    expect(audit).toContain('alert.milestone_failed');
    for (const text of [lastError, audit]) {
      expect(text).not.toContain(scim.token);
      expect(text).not.toContain('internal trace');
    }
  });
});
