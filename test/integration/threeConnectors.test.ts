/**
 * Three connectors (built-in directory, SCIM, webhook) with the SCIM server
 * down at the revoke instant: the directory and the webhook revoke on time,
 * the SCIM one fails, the milestone goes `failed` past its deadline with one
 * alert naming that connector, and completes (`done`) once the server is back,
 * without redoing the other two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import type { ConnectorOutcome } from '../../src/effects/connectorEffects.ts';
import { eventually, testRuntime, testSettings } from '../helpers/lastday.ts';
import { allDone, auditOf, milestones, milestoneState, offboardSoon } from '../helpers/offboarding.ts';
import { type ScimTestServer, startScimServer } from '../helpers/scimServer.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';

const SECRET = `whsec_${Buffer.from('lastday-three-connectors-secret-01').toString('base64')}`;

let scim: ScimTestServer;
let receiver: WebhookReceiver;
let rt: Runtime;

beforeAll(async () => {
  scim = await startScimServer();
  receiver = await startWebhookReceiver(SECRET);
  rt = await testRuntime(
    testSettings({
      policy: { verifyAfterMinutes: 0.02, failAfterMinutes: 0.01 },
      connectors: [
        { type: 'directory' },
        {
          type: 'scim',
          name: 'idp',
          baseUrl: scim.url,
          tokenEnv: 'IDP_TOKEN',
          privilegedGroups: ['*-admins'],
        },
        { type: 'webhook', name: 'tools', url: receiver.url, secretEnv: 'TOOLS_SECRET' },
      ],
    }),
    { env: { IDP_TOKEN: scim.token, TOOLS_SECRET: SECRET } },
  );
});
afterAll(async () => {
  await rt?.stop();
  await scim?.close();
  await receiver?.close();
});

describe('three connectors, one down at the revoke instant', () => {
  it('revokes in the two that answer on time, fails and alerts once, completes after recovery', async () => {
    const personId = 'three-1';
    const at = new Date().toISOString();
    await rt.ctx.directory.put(
      personId,
      { active: true, grants: [{ id: 'g-admin', system: 'cms', role: 'admin', privileged: true }] },
      at,
    );
    const user = scim.addUser({ userName: personId });
    scim.addGroup('ops-admins', [user.id]);
    scim.addGroup('staff', [user.id]);
    receiver.access.set(personId, { active: true, grants: [{ id: 'crm', role: 'user', privileged: false }] });

    const soon = await offboardSoon(rt, personId, 3);
    await eventually(async () => (await milestoneState(rt, personId, 'reduce')) === 'done');
    scim.faults.down = 503;

    // Past the deadline the milestone is failed, with one alert naming the SCIM connector.
    await eventually(async () => (await milestoneState(rt, personId, 'revoke')) === 'failed', 15_000);
    const endsAt = soon.endsAt.toMillis();
    const revokes = (await auditOf(rt, personId)).filter((e) => e.type === 'effect.revoke');
    const onTime = Object.fromEntries(revokes.map((e) => [e.details.connector, Date.parse(e.at) - endsAt]));
    expect(Object.keys(onTime).sort()).toEqual(['directory', 'tools']);
    for (const late of Object.values(onTime)) {
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(5_000); // generous: CI machines are slow; the SCIM one is not done at all
    }
    expect((await rt.ctx.directory.get(personId))?.active).toBe(false);
    expect(receiver.access.get(personId)?.active).toBe(false);
    expect(scim.store.users.get(user.id)?.active).toBe(true);

    const failed = (await milestones(rt, personId)).find((m) => m.name === 'revoke')!;
    expect(failed.lastError).toContain('idp');
    const alerts = (await auditOf(rt, personId)).filter((e) => e.type === 'alert.milestone_failed');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details.milestone).toBe('revoke');
    const outcomes = alerts[0]!.details.connectors as ConnectorOutcome[];
    expect(Object.fromEntries(outcomes.map((o) => [o.connector, o.status]))).toEqual({
      directory: expect.stringMatching(/^(done|skipped)$/),
      idp: 'failed',
      tools: expect.stringMatching(/^(done|skipped)$/),
    });
    expect(outcomes.find((o) => o.connector === 'idp')).toMatchObject({ retryable: true });

    // Back up: the SCIM revoke completes, the others are not redone.
    scim.faults.down = undefined;
    await eventually(() => allDone(rt, personId), 30_000);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
    expect(scim.groupsOf(user.id)).toEqual([]);
    const audit = await auditOf(rt, personId);
    const byConnector = (type: string) =>
      audit
        .filter((e) => e.type === type)
        .map((e) => e.details.connector)
        .sort();
    expect(byConnector('effect.revoke')).toEqual(['directory', 'idp', 'tools']);
    expect(receiver.appliedFor(personId).filter((e) => e === 'revoke')).toHaveLength(1);
    expect(audit.filter((e) => e.type === 'alert.milestone_failed')).toHaveLength(1);
    const done = audit.find((e) => e.type === 'milestone.done' && e.details.milestone === 'revoke')!;
    const final = Object.fromEntries(
      (done.details.connectors as ConnectorOutcome[]).map((o) => [o.connector, o.status]),
    );
    expect(final).toEqual({ directory: 'skipped', idp: 'done', tools: 'skipped' });
    expect(await milestoneState(rt, personId, 'verify')).toBe('done');
  });
});
