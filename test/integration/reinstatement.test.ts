/**
 * Reinstatement on the real path (contract v1.1 section 3): a real lastday
 * (HTTP API, Redis, BullMQ workers) with three connectors — the built-in
 * directory, a real SCIM service provider and a real OpenLDAP slapd. A person
 * is revoked for real; an admin requests the undo (held), self-approval and a
 * departing approver are refused, another person approves, and lastday
 * re-enables the account in every connector with the removed grants back;
 * status `reinstated`. Also: 409 for a person not revoked and outside
 * `policy.reinstateWithinDays`; a connector failing halfway is retried with
 * backoff and completes; running the execution again changes nothing.
 */
import { milestonesWithJobs } from '../../src/domain/milestoneJobs.ts';
import { horizonMs } from '../../src/queues/milestones.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpired } from '../../jobs/ops/retention.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { REINSTATE_KIND } from '../../src/domain/reinstatement.ts';
import { executeAction } from '../../jobs/actions.ts';
import { sha256Hex } from '../../src/http/auth.ts';
import { runCli } from '../helpers/cli.ts';
import { ConsoleClient, csrfOf } from '../helpers/console.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { EXTRA, client, sendHr, settings as guardSettings, statusOf, tokens } from '../helpers/guard.ts';
import { runDue, TestClock } from '../helpers/clock.ts';
import { bearer, eventually, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';
import { allDone, auditOf, offboardSoon, postHrEvent } from '../helpers/offboarding.ts';
import { type ScimTestServer, startScimServer } from '../helpers/scimServer.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';
import { GROUPS, PEOPLE, SERVICE_DN, startTestSlapd, SUFFIX, type TestSlapd } from '../helpers/slapd.ts';

const DAY_MS = 86_400_000;
/** A token whose person is the one being reinstated (revoked: may not approve). */
const LEAVER_TOKEN = 'leaver-token';

let scim: ScimTestServer;
let slapd: TestSlapd;
let receiver: WebhookReceiver;
const TOOLS_SECRET = `whsec_${Buffer.from('lastday-reinstatement-tools-secret').toString('base64')}`;
let rt: Runtime;
/** lastday's clock: tests move it to the end of a day and past the reinstatement window. */
const clock = new TestClock();
let api: ReturnType<typeof client>;

beforeAll(async () => {
  [scim, slapd, receiver] = await Promise.all([
    startScimServer(),
    startTestSlapd(),
    startWebhookReceiver(TOOLS_SECRET),
  ]);
  rt = await testRuntime(
    testSettings({
      auth: {
        tokens: [
          ...tokens,
          { name: 'leaver', role: 'approver', personId: 'rs-main', sha256: sha256Hex(LEAVER_TOKEN) },
        ],
      },
      policy: { verifyAfterMinutes: 0.02, failAfterMinutes: 0.01, reinstateWithinDays: 30 },
      connectors: [
        { type: 'directory' },
        {
          type: 'scim',
          name: 'idp',
          baseUrl: scim.url,
          tokenEnv: 'IDP_TOKEN',
          privilegedGroups: ['*-admins'],
        },
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
        { type: 'webhook', name: 'tools', url: receiver.url, secretEnv: 'TOOLS_SECRET' },
      ],
    }),
    {
      env: { IDP_TOKEN: scim.token, CORP_LDAP_PASSWORD: slapd.servicePassword, TOOLS_SECRET },
      now: clock.now,
    },
  );
  api = client(rt);
}, 30_000);
afterAll(async () => {
  await rt?.stop();
  await Promise.all([scim?.close(), slapd?.close(), receiver?.close()]);
});

const keeper = `cn=keeper,${SUFFIX}`;

/** A person with access in all three connectors: one privileged and one plain grant each. */
async function seed(personId: string) {
  await rt.ctx.directory.put(
    personId,
    {
      active: true,
      grants: [
        { id: 'cms-admin', system: 'cms', role: 'admin', privileged: true },
        { id: 'wiki', system: 'wiki', role: 'editor', privileged: false },
      ],
    },
    new Date().toISOString(),
  );
  receiver.access.set(personId, {
    active: true,
    grants: [
      { id: 'crm-admin', role: 'admin', privileged: true },
      { id: 'crm', role: 'user', privileged: false },
    ],
  });
  const user = scim.addUser({ userName: personId });
  const admins = scim.addGroup(`${personId}-admins`, [user.id]);
  const staff = scim.addGroup(`${personId}-staff`, [user.id]);
  const dn = `uid=${personId},${PEOPLE}`;
  const ldapGroups = [`cn=${personId}-admins,${GROUPS}`, `cn=${personId}-staff,${GROUPS}`];
  await slapd.admin(async (c) => {
    await c.add(dn, {
      objectClass: 'inetOrgPerson',
      uid: personId,
      cn: personId,
      sn: 'T',
      userPassword: 'pw',
    });
    for (const g of ldapGroups) {
      await c.add(g, { objectClass: 'groupOfNames', cn: g.slice(3, g.indexOf(',')), member: [dn, keeper] });
    }
  });
  return { user, scimGroups: [admins.displayName, staff.displayName].sort(), dn, ldapGroups };
}

async function ldapState(dn: string, groups: string[]) {
  return slapd.admin(async (c) => {
    const { searchEntries } = await c.search(dn, { scope: 'base', attributes: ['pwdAccountLockedTime'] });
    const lock = searchEntries[0]?.pwdAccountLockedTime ?? [];
    const locked = (Array.isArray(lock) ? lock : [lock]).length > 0;
    const memberOf: string[] = [];
    for (const g of groups) {
      const r = await c.search(g, { scope: 'base', attributes: ['member'] });
      const v = r.searchEntries[0]?.member ?? [];
      if ((Array.isArray(v) ? v : [v]).map((m) => String(m).toLowerCase()).includes(dn.toLowerCase())) {
        memberOf.push(g);
      }
    }
    return { locked, memberOf };
  });
}

/** Offboards `personId`, then moves lastday's clock past the end of the day and verify (1.2 s after). */
async function revokeNow(personId: string) {
  const soon = await offboardSoon(rt, personId, 60, { from: clock.now() });
  clock.reach(soon.endsAt.plus({ seconds: 5 }));
  await eventually(async () => {
    await runDue(rt, personId);
    return allDone(rt, personId);
  }, 20_000);
}

const admin = bearer(TOKENS.admin);
const request = (personId: string, body: unknown = { reason: 'wrong person offboarded' }, auth = admin) =>
  api('POST', `/v1/people/${encodeURIComponent(personId)}/reinstatement`, body, auth);
const approve = (actionId: string, token: string) =>
  api('POST', `/v1/actions/${encodeURIComponent(actionId)}/approve`, {}, bearer(token));
const person = async (personId: string) =>
  (await api('GET', `/v1/people/${encodeURIComponent(personId)}`, undefined, bearer(TOKENS.viewer))).body;

describe('reinstatement', () => {
  it('revoke → request (held) → self-approval refused → approved by another → enabled with grants back', async () => {
    const personId = 'rs-main';
    const s = await seed(personId);
    await revokeNow(personId);
    // Revoked for real everywhere.
    expect(await rt.ctx.directory.get(personId)).toMatchObject({ active: false });
    expect(scim.store.users.get(s.user.id)?.active).toBe(false);
    expect(scim.groupsOf(s.user.id)).toEqual([]);
    expect(await ldapState(s.dn, s.ldapGroups)).toEqual({ locked: true, memberOf: [] });
    expect(receiver.access.get(personId)).toMatchObject({ active: false, grants: [] });
    expect((await person(personId)).status).toBe('revoked');

    // Only an admin may ask, with a reason; the body is strict.
    expect((await request(personId, { reason: 'x' }, bearer(TOKENS.approver))).status).toBe(403);
    expect((await request(personId, {})).status).toBe(400);
    expect((await request(personId, { reason: 'x', extra: 1 })).status).toBe(400);

    const first = await request(personId);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      kind: REINSTATE_KIND,
      target: `person:${personId}`,
      state: 'held',
      initiatorId: 'admin-1',
      created: true,
    });
    const actionId = first.body.actionId as string;
    // Idempotent while open: the same action, not a second one.
    const again = await request(personId, { reason: 'asked twice' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ actionId, state: 'held', created: false });
    // Nothing happened yet.
    expect(scim.store.users.get(s.user.id)?.active).toBe(false);

    // Same rules as any action: not the requester, not a departing person.
    const self = await approve(actionId, TOKENS.admin);
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('self_approval');
    const leaver = await approve(actionId, LEAVER_TOKEN);
    expect(leaver.status).toBe(403);
    expect(leaver.body.error.code).toBe('approver_departing');
    expect((await api('GET', `/v1/actions/${actionId}`, undefined, bearer(TOKENS.viewer))).body.state).toBe(
      'held',
    );

    const approvedAtWall = Date.now();
    const ok = await approve(actionId, EXTRA.approver2);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ state: 'approved', approvedBy: 'approver-2' });

    await eventually(async () => (await person(personId)).status === 'reinstated', 15_000);
    const wallMs = Date.now() - approvedAtWall;
    const view = await person(personId);
    expect(view).toMatchObject({
      status: 'reinstated',
      reinstatement_required: false,
      reinstatement: { actionId, requestedBy: 'admin-1', approvedBy: 'approver-2' },
    });

    // Enabled again everywhere, with what reduce and revoke removed back.
    const dir = await rt.ctx.directory.get(personId);
    expect(dir?.active).toBe(true);
    expect(dir?.grants.map((g) => g.id).sort()).toEqual(['cms-admin', 'wiki']);
    expect(scim.store.users.get(s.user.id)?.active).toBe(true);
    expect(scim.groupsOf(s.user.id).sort()).toEqual(s.scimGroups);
    expect(await ldapState(s.dn, s.ldapGroups)).toEqual({ locked: false, memberOf: s.ldapGroups });
    expect(await slapd.canBind(s.dn, 'pw')).toBe(true);
    // The webhook receiver is enabled and told to restore both snapshots (reduce's and revoke's).
    expect(receiver.access.get(personId)?.active).toBe(true);
    const restores = receiver.calls.filter((c) => c.personId === personId && c.effect === 'restore');
    expect(restores).toHaveLength(1);
    expect(restores[0]!.grants.map((g) => g.id).sort()).toEqual(['crm', 'crm-admin']);

    // Audit: request, approval, each connector's enable and restore, the result; each once.
    const audit = await auditOf(rt, personId);
    const count = (type: string) => audit.filter((e) => e.type === type && e.actionId === actionId).length;
    expect(count('action.registered')).toBe(1);
    expect(count('action.approved')).toBe(1);
    expect(count('person.reinstated')).toBe(1);
    expect(count('action.executed')).toBe(1);
    const byConnector = (type: string) =>
      audit
        .filter((e) => e.type === type)
        .map((e) => e.details.connector)
        .sort();
    expect(byConnector('effect.enable')).toEqual(['corp', 'directory', 'idp', 'tools']);
    expect(byConnector('effect.reinstate')).toEqual(['corp', 'directory', 'idp', 'tools']);
    const done = audit.find((e) => e.type === 'person.reinstated')!;
    const approvalToEnabledMs = done.details.approvalToEnabledMs as number;
    expect(approvalToEnabledMs).toBeGreaterThanOrEqual(0);
    expect(approvalToEnabledMs).toBeLessThan(10_000);
    console.log(
      `reinstatement: approval → enabled in 4 connectors ${approvalToEnabledMs} ms (audit); approval → status reinstated seen by polling ${wallMs} ms`,
    );

    // Run twice = effects once: executing the action again does nothing.
    const writes = { ...scim.store.writes };
    const activeChanges = scim.store.activeChanges.length;
    const entries = audit.length;
    const rerun = await executeAction(
      { ...rt.ctx, actionSecret: rt.ctx.settings.env.LASTDAY_ACTION_SECRET },
      actionId,
      99,
    );
    expect(rerun.outcome).toBe('executed_already');
    await rt.ctx.queues.actions.add('execute', { actionId }, { jobId: `rerun-${actionId}` });
    await eventually(async () => (await rt.ctx.queues.actions.getJob(`rerun-${actionId}`))?.finishedOn);
    expect(scim.store.writes).toEqual(writes);
    expect(receiver.appliedFor(personId).filter((e) => e === 'enable')).toHaveLength(1);
    expect(scim.store.activeChanges).toHaveLength(activeChanges);
    const after = await auditOf(rt, personId);
    expect(after.filter((e) => e.type.startsWith('effect.') || e.type === 'person.reinstated')).toHaveLength(
      audit.filter((e) => e.type.startsWith('effect.') || e.type === 'person.reinstated').length,
    );
    expect(after.length).toBeGreaterThanOrEqual(entries);

    // Evidence covers it.
    const evidence = (await api('GET', `/v1/people/${personId}/evidence`, undefined, bearer(TOKENS.viewer)))
      .body;
    expect(evidence.status).toBe('reinstated');
    expect(evidence.reinstatement).toMatchObject({
      reinstatedAt: done.at,
      approvalToEnabledMs,
      requests: [
        { actionId, requestedBy: 'admin-1', approvedBy: 'approver-2', reason: 'wrong person offboarded' },
      ],
    });
    expect(evidence.reinstatement.connectors.map((c: { connector: string }) => c.connector)).toEqual([
      'corp',
      'directory',
      'idp',
      'tools',
    ]);

    // Reinstated: a new request is a 409; the approval's action is executed.
    const twice = await request(personId);
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: 'conflict', reason: 'already_reinstated' });
    expect((await api('GET', `/v1/actions/${actionId}`, undefined, bearer(TOKENS.viewer))).body.state).toBe(
      'executed',
    );

    // A later HR event plans a new departure normally (a new cycle).
    const later = endingSoon(30 * 86_400);
    await postHrEvent(
      rt,
      hrEvent({ personId, lastDay: later.lastDay, endTime: later.endTime, timezone: later.timezone }),
    );
    await eventually(async () => (await person(personId)).status === 'scheduled');
    const replanned = await rt.ctx.people.get(personId);
    expect(replanned?.cycle).toBe(2);
    expect(replanned?.reinstatement).toBeUndefined();
    expect(replanned?.milestones.every((m) => m.state === 'scheduled')).toBe(true);
  }, 60_000);

  it('409 for a person not revoked, 404 for an unknown one', async () => {
    const personId = 'rs-scheduled';
    await offboardSoon(rt, personId, 3600);
    await eventually(async () => (await person(personId))?.status);
    const res = await request(personId);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', reason: 'not_revoked' });
    const cli = await runCli(['reinstate', personId, '--reason', 'x'], {
      LASTDAY_URL: rt.url!,
      LASTDAY_TOKEN: TOKENS.admin,
    });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('conflict');
    expect((await request('rs-nobody')).status).toBe(404);
  }, 20_000);

  it('409 outside policy.reinstateWithinDays, for a request and for an approval', async () => {
    const personId = 'rs-window';
    await seed(personId);
    await revokeNow(personId);
    const held = await request(personId);
    expect(held.status).toBe(201);
    clock.shift(31 * DAY_MS);
    try {
      const late = await approve(held.body.actionId, EXTRA.approver2);
      expect(late.status).toBe(409);
      expect(late.body.error).toMatchObject({ code: 'conflict', reason: 'window_closed' });
      await api('POST', `/v1/actions/${held.body.actionId}/cancel`, {}, bearer(TOKENS.approver));
      const res = await request(personId);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'conflict', reason: 'window_closed' });

      // The retention task then trims the snapshots to grant ids (the evidence stays).
      const before = await rt.ctx.effects.get<{ grants: object[] }>(personId, 'c1.revoke', 'directory');
      expect(before?.data.grants).toEqual([expect.objectContaining({ id: 'wiki', system: 'wiki' })]);
      const pruned = await pruneExpired(rt.ctx, rt.ctx.settings.config.retention);
      expect(pruned.snapshots.people).toBeGreaterThanOrEqual(1);
      const after = await rt.ctx.effects.get<{ grants: object[]; snapshotExpiredAt: string }>(
        personId,
        'c1.revoke',
        'directory',
      );
      expect(after?.data.grants).toEqual([{ id: 'wiki' }]);
      expect(after?.data.snapshotExpiredAt).toBeDefined();
      expect((await rt.ctx.effects.get(personId, 'c1.reduce', 'idp'))?.data).toMatchObject({
        grants: [{ id: expect.any(String) }],
      });
      expect((await pruneExpired(rt.ctx, rt.ctx.settings.config.retention)).snapshots.records).toBe(0);
    } finally {
      clock.shift(-31 * DAY_MS);
    }
    expect((await rt.ctx.directory.get(personId))?.active).toBe(false);
    expect((await person(personId)).status).toBe('revoked');
  }, 30_000);

  it('a connector failing halfway is retried with backoff and completes, each step once', async () => {
    const personId = 'rs-flaky';
    const s = await seed(personId);
    await revokeNow(personId);
    // Through the CLI this time, an API client like approve (no --as).
    const cli = (token: string) => ({ LASTDAY_URL: rt.url!, LASTDAY_TOKEN: token });
    const asked = await runCli(['reinstate', personId, '--reason', 'HR mix-up', '--json'], cli(TOKENS.admin));
    expect(asked.code).toBe(0);
    const actionId = JSON.parse(asked.stdout).actionId as string;
    expect((await runCli(['reinstate', personId, '--reason', 'again'], cli(TOKENS.admin))).stdout).toContain(
      `${actionId}: held`,
    );
    const forged = await runCli(
      ['reinstate', personId, '--reason', 'x', '--as', 'admin-1'],
      cli(TOKENS.admin),
    );
    expect(forged.code).not.toBe(0);
    // The SCIM group writes fail (enable works): the first attempt enables
    // everywhere, restores in the directory and LDAP, and fails in SCIM.
    scim.faults.rules = [{ method: 'PATCH', path: '/Groups', status: 503, count: 8 }];
    try {
      const approved = await runCli(['approve', actionId], cli(EXTRA.approver2));
      expect(approved.stdout).toContain(`${actionId}: approved`);
      await eventually(async () => (await person(personId)).status === 'reinstated', 30_000);
    } finally {
      scim.faults.rules = [];
    }
    expect(scim.store.users.get(s.user.id)?.active).toBe(true);
    expect(scim.groupsOf(s.user.id).sort()).toEqual(s.scimGroups);
    expect((await ldapState(s.dn, s.ldapGroups)).memberOf).toEqual(s.ldapGroups);
    const audit = await auditOf(rt, personId);
    const of = (type: string, connector: string) =>
      audit.filter((e) => e.type === type && e.details.connector === connector).length;
    for (const c of ['directory', 'idp', 'corp', 'tools']) {
      expect(of('effect.enable', c)).toBe(1);
      expect(of('effect.reinstate', c)).toBe(1);
    }
    const executed = audit.find((e) => e.type === 'action.executed' && e.actionId === actionId)!;
    expect(executed.details.attempt).toBeGreaterThanOrEqual(2);
    expect(scim.store.activeChanges.filter((c) => c.userId === s.user.id && c.active)).toHaveLength(1);
  }, 60_000);
});

describe('a cancel that comes after an account was enabled', () => {
  it('does not leave the person half-enabled: the reinstatement finishes, the action stays cancelled, ops are alerted', async () => {
    const personId = 'rs-cancel-late';
    const s = await seed(personId);
    await revokeNow(personId);
    const actionId = (await request(personId)).body.actionId as string;
    // Enable works everywhere; the SCIM group restore keeps failing, so the
    // execution is stuck between "enabled somewhere" and "done".
    scim.faults.rules = [{ method: 'PATCH', path: '/Groups', status: 503, count: 10_000 }];
    try {
      expect((await approve(actionId, EXTRA.approver2)).status).toBe(200);
      await eventually(async () => scim.store.users.get(s.user.id)?.active === true, 30_000);
      const cancelled = await api(
        'POST',
        `/v1/actions/${encodeURIComponent(actionId)}/cancel`,
        { reason: 'changed our mind' },
        bearer(TOKENS.admin),
      );
      expect(cancelled.status).toBe(200);
    } finally {
      scim.faults.rules = [];
    }
    await eventually(async () => (await person(personId)).status === 'reinstated', 30_000);
    expect(scim.groupsOf(s.user.id).sort()).toEqual(s.scimGroups);
    const action = await rt.ctx.actions.get(actionId);
    expect(action?.state).toBe('cancelled'); // cancel is final
    // The alert follows the person's save (executeReinstatement: save under the
    // lock, then the action's transition, then the alert): wait for it.
    const alerted = (e: { type: string; actionId?: string }) =>
      e.type === 'alert.action_executed_after_cancel' && e.actionId === actionId;
    await eventually(async () => (await auditOf(rt, personId)).some(alerted), 15_000);
    const audit = await auditOf(rt, personId);
    expect(audit.filter(alerted)).toHaveLength(1);
    expect(audit.filter((e) => e.type === 'action.executed' && e.actionId === actionId)).toHaveLength(0);
  }, 60_000);
});

describe('an extension that came after the revoke', () => {
  it('is planned afresh when the person is reinstated, with its jobs', async () => {
    const personId = 'rs-extended';
    await rt.ctx.directory.put(
      personId,
      { active: true, grants: [{ id: 'cms-admin', system: 'cms', role: 'admin', privileged: true }] },
      new Date().toISOString(),
    );
    await revokeNow(personId);
    // HR moves the last day a month out after the revoke: nothing is re-enabled automatically.
    const later = endingSoon(30 * 86_400);
    await postHrEvent(
      rt,
      hrEvent({ personId, lastDay: later.lastDay, endTime: later.endTime, timezone: later.timezone }),
    );
    await eventually(async () => (await person(personId)).reinstatement_required === true);
    const actionId = (await request(personId)).body.actionId as string;
    expect((await approve(actionId, EXTRA.approver2)).status).toBe(200);
    await eventually(async () => (await person(personId)).status === 'reinstated', 15_000);
    expect((await rt.ctx.directory.get(personId))?.active).toBe(true);
    const record = (await rt.ctx.people.get(personId))!;
    expect(record.cycle).toBe(2);
    expect(record.milestones.map((m) => m.state)).toEqual(Array(5).fill('scheduled'));
    expect(record.milestones.find((m) => m.name === 'revoke')?.dueAt).toBe(
      later.endsAt.toISO({ suppressMilliseconds: true }),
    );
    // The new plan has the jobs it wants under the new plan version (a month
    // ahead: none before the horizon pass), and is in the next-due index for that pass.
    const delayed = await rt.ctx.queues.milestones.getDelayed();
    const mine = delayed.filter((j) => j.data.personId === personId && j.data.version === record.planVersion);
    const wanted = milestonesWithJobs(record, rt.ctx.now().getTime(), horizonMs(rt.ctx.settings));
    expect(mine.map((j) => j.data.milestone).sort()).toEqual(wanted.map((m) => m.name).sort());
    expect(Number(await rt.ctx.redis.zscore(rt.ctx.keys.peopleByNextDue, personId))).toBe(
      Date.parse(record.milestones[0]!.dueAt),
    );
  }, 30_000);
});

describe('the console', () => {
  it("has a Request reinstatement form on a revoked person's page, for admins", async () => {
    const personId = 'rs-console';
    await rt.ctx.directory.put(personId, { active: true, grants: [] }, new Date().toISOString());
    await revokeNow(personId);
    const viewer = new ConsoleClient(rt.url!);
    await viewer.signIn(TOKENS.viewer);
    expect((await viewer.get(`/console/people/${personId}`)).html).not.toContain('Request reinstatement');
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.admin);
    const page = await c.get(`/console/people/${personId}`);
    expect(page.html).toContain('Request reinstatement');
    const res = await c.post(`/console/people/${personId}/reinstatement`, {
      _csrf: csrfOf(page.html),
      reason: 'console test',
    });
    expect(res.status).toBe(303);
    const actionId = decodeURIComponent(res.location!.split('/').pop()!);
    const action = (
      await api('GET', `/v1/actions/${encodeURIComponent(actionId)}`, undefined, bearer(TOKENS.viewer))
    ).body;
    expect(action).toMatchObject({ kind: REINSTATE_KIND, state: 'held', initiatorId: 'admin-1' });
    // Refusals are shown in words: a person not revoked.
    const other = await c.get('/console/people/rs-scheduled');
    const refused = await c.post('/console/people/rs-scheduled/reinstatement', {
      _csrf: csrfOf(other.html),
      reason: 'x',
    });
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('not revoked');
  }, 30_000);
});

describe('reserved kinds', () => {
  it('a tool cannot register a lastday.reinstate action through POST /v1/actions', async () => {
    const res = await api(
      'POST',
      '/v1/actions',
      { actionId: 'forged-1', initiatorId: 'tool', kind: REINSTATE_KIND, target: 'person:rs-main' },
      bearer(TOKENS.system),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('a requester in another partition than the person reinstated', () => {
  let multi: Runtime | undefined;
  afterAll(async () => {
    await multi?.stop();
  });

  // The requester's record and freeze mark live in the requester's partition:
  // read in the reinstated person's (where the action is filed), where it is
  // absent, a departing requester was recorded as `active`.
  it("records the requester's departing status, read in the requester's partition", async () => {
    const s = guardSettings();
    s.env = { ...s.env, LASTDAY_PARTITIONS: 4 };
    multi = await testRuntime(s);
    const { partitions } = multi.ctx;
    const requester = 'admin-1'; // the admin token's person
    const personId = Array.from({ length: 20 }, (_, i) => `rs-apart:${i}`).find(
      (id) => partitions.partitionOf(id) !== partitions.partitionOf(requester),
    )!;
    await sendHr(
      multi,
      hrEvent({ personId, type: 'contract.terminated', effectiveAt: new Date().toISOString() }),
    );
    // The requester's own last day ends in 20 hours: `reduce` is due at once.
    const soon = endingSoon(20 * 3600, 'Pacific/Kiritimati');
    await sendHr(
      multi,
      hrEvent({ personId: requester, lastDay: soon.lastDay, endTime: soon.endTime, timezone: soon.timezone }),
    );
    await eventually(async () => (await statusOf(multi!, personId)) === 'revoked', 20_000);
    await eventually(
      async () => ['reduced', 'frozen'].includes((await statusOf(multi!, requester)) ?? ''),
      15_000,
    );

    const res = await client(multi)(
      'POST',
      `/v1/people/${encodeURIComponent(personId)}/reinstatement`,
      { reason: 'wrong person offboarded' },
      admin,
    );
    expect(res.status).toBe(201);
    const audit = await multi.ctx.shardOf(personId).audit.list({ personId, limit: 100 });
    const registered = audit.find((e) => e.type === 'action.registered' && e.actionId === res.body.actionId);
    expect(registered?.details).toMatchObject({ requestedBy: requester });
    expect(['reduced', 'frozen']).toContain(registered?.details.initiatorStatus);
  }, 60_000);
});
