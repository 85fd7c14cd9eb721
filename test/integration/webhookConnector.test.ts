/**
 * The webhook connector against a local receiver that verifies Standard
 * Webhooks signatures and counts calls: every effect of a timeline arrives
 * signed, retries reuse the webhook-id (so a deduping receiver applies each
 * once), a refused signature fails without retry.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { WebhookConnector } from '../../src/connectors/webhook.ts';
import { hrEvent } from '../helpers/events.ts';
import { runDue, runPlan, TestClock } from '../helpers/clock.ts';
import { eventually, testRuntime, testSettings } from '../helpers/lastday.ts';
import { allDone, effectEntries, milestoneState, offboardSoon, postHrEvent } from '../helpers/offboarding.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';

const SECRET = `whsec_${Buffer.from('lastday-test-connector-secret-0123').toString('base64')}`;
const OTHER = `whsec_${Buffer.from('someone-else-entirely-secret-98765').toString('base64')}`;

let receiver: WebhookReceiver;
let rt: Runtime;
/** lastday's clock: real time, moved by the tests that fault a revoke (test/helpers/clock.ts). */
const clock = new TestClock();

beforeAll(async () => {
  receiver = await startWebhookReceiver(SECRET);
  rt = await testRuntime(
    testSettings({
      policy: { verifyAfterMinutes: 0.02 },
      connectors: [
        { type: 'directory' },
        {
          type: 'webhook',
          name: 'hr-tools',
          url: receiver.url,
          secretEnv: 'HR_TOOLS_SECRET',
          timeoutMs: 2_000,
        },
      ],
    }),
    { env: { HR_TOOLS_SECRET: SECRET }, now: clock.now },
  );
});
afterAll(async () => {
  await rt?.stop();
  await receiver?.close();
});
beforeEach(() => {
  clock.reset();
  receiver.down = undefined;
  receiver.downOnly = undefined;
  receiver.legacy = false;
});

let n = 0;
function seed(): string {
  const personId = `wh-${++n}-${Math.random().toString(36).slice(2, 6)}`;
  receiver.access.set(personId, {
    active: true,
    grants: [
      { id: 'billing-admin', role: 'admin', privileged: true },
      { id: 'wiki', role: 'reader', privileged: false },
    ],
  });
  return personId;
}

const writes = (personId: string) => receiver.appliedFor(personId).filter((e) => e !== 'verify');

describe('webhook connector', () => {
  it('posts signed reduce, revoke and verify through a whole timeline', async () => {
    const personId = seed();
    await offboardSoon(rt, personId, 3);
    await eventually(() => allDone(rt, personId), 20_000);
    expect(writes(personId)).toEqual(['reduce', 'disable', 'revoke']);
    expect(receiver.rejected).toBe(0);
    expect(receiver.access.get(personId)).toMatchObject({ active: false, grants: [] });

    const reduce = receiver.calls.find((c) => c.personId === personId && c.effect === 'reduce')!;
    expect(reduce.grants.map((g) => g.id)).toEqual(['billing-admin']);
    expect(reduce.cycle).toBe(1);
    const [reduced] = await effectEntries(rt, personId, 'effect.reduce', 'hr-tools');
    expect(reduced!.details.removed).toEqual(['billing-admin']);
    const [verified] = await effectEntries(rt, personId, 'effect.verify', 'hr-tools');
    expect(verified!.details).toMatchObject({ drift: false, active: false, grants: [] });
  });

  it('sends restore with what reduce removed when the last day moves out', async () => {
    const personId = seed();
    await offboardSoon(rt, personId, 3600);
    await eventually(async () => writes(personId).includes('reduce'));
    await postHrEvent(rt, hrEvent({ personId, lastDay: '2027-06-30', timezone: 'Europe/Berlin' }));
    await eventually(async () => writes(personId).includes('restore'));
    const restore = receiver.calls.find((c) => c.personId === personId && c.effect === 'restore')!;
    expect(restore.grants.map((g) => g.id)).toEqual(['billing-admin']);
    expect(
      receiver.access
        .get(personId)
        ?.grants.map((g) => g.id)
        .sort(),
    ).toEqual(['billing-admin', 'wiki']);
    expect(await milestoneState(rt, personId, 'reduce')).toBe('scheduled');
  });

  it('retries a failing revoke with the same webhook-id, applied once', async () => {
    const personId = seed();
    const soon = await offboardSoon(rt, personId, 60, { from: clock.now() });
    await eventually(async () => writes(personId).includes('reduce'));
    receiver.down = 503;
    receiver.downOnly = 'revoke';
    clock.reach(soon.endsAt);
    await runDue(rt, personId);
    await eventually(
      async () =>
        receiver.attempts.filter((a) => a.personId === personId && a.effect === 'revoke').length >= 4,
      15_000,
    );
    // The account went first; only the removal of the rest is failing.
    expect(receiver.access.get(personId)?.active).toBe(false);
    receiver.down = undefined;
    await runPlan(rt, clock, personId, 30_000);
    const attempts = receiver.attempts.filter((a) => a.personId === personId && a.effect === 'revoke');
    expect(attempts.length).toBeGreaterThanOrEqual(5); // 4+ refused, then the one that landed
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    const mine = receiver.calls.filter((c) => c.personId === personId && c.effect === 'revoke');
    expect(mine.filter((c) => c.applied)).toHaveLength(1);
    expect(writes(personId)).toEqual(['reduce', 'disable', 'revoke']);
  });

  it('falls back to revoke for a receiver from before v1.1 that refuses disable', async () => {
    const personId = seed();
    receiver.legacy = true;
    try {
      await offboardSoon(rt, personId, 60, { from: clock.now() });
      await runPlan(rt, clock, personId);
    } finally {
      receiver.legacy = false;
    }
    expect(receiver.access.get(personId)).toMatchObject({ active: false, grants: [] });
    const refused = receiver.calls.filter((c) => c.personId === personId && c.effect === 'disable');
    expect(refused).toHaveLength(1);
    // The legacy revoke disabled (and emptied) the account; the second revoke is the same id, not applied again.
    expect(writes(personId)).toEqual(['reduce', 'disable', 'revoke']);
    const [revoke] = await effectEntries(rt, personId, 'effect.revoke', 'hr-tools');
    expect(revoke!.details).toMatchObject({ disabled: true });
  });

  it('enables and disables only the account, and says when there is none', async () => {
    const c = new WebhookConnector(
      { name: 'hr-tools', url: receiver.url, timeoutMs: 2_000, concurrency: 2 },
      { secret: SECRET },
    );
    const personId = seed();
    const p = { id: personId, cycle: 1, planVersion: 1 };
    expect(await c.disable({ ...p, effect: 'revoke' })).toBe(true);
    expect(receiver.access.get(personId)).toMatchObject({ active: false });
    expect(receiver.access.get(personId)?.grants).toHaveLength(2);
    expect(await c.enable({ ...p, effect: 'reinstate' })).toBe(true);
    expect(receiver.access.get(personId)?.active).toBe(true);
    expect(await c.disable({ id: 'nobody', cycle: 1, planVersion: 1 })).toBe(false);
    expect(await c.enable({ id: 'nobody', cycle: 1, planVersion: 1 })).toBe(false);
  });

  it('fails without retry when the receiver refuses the signature', async () => {
    const wrong = new WebhookConnector(
      { name: 'hr-tools', url: receiver.url, timeoutMs: 2_000, concurrency: 2 },
      { secret: OTHER },
    );
    const before = receiver.rejected;
    const err = await wrong.disable({ id: 'x', cycle: 1, planVersion: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, status: 401 });
    expect(receiver.rejected - before).toBe(1);
  });

  it('derives one id per (person, cycle, plan, effect), fresh ones for verify', () => {
    const c = new WebhookConnector(
      { name: 'hr-tools', url: receiver.url, timeoutMs: 2_000, concurrency: 2 },
      { secret: SECRET },
    );
    const p = { id: 'p', cycle: 1, planVersion: 3 };
    expect(c.messageId(p, 'revoke')).toBe(c.messageId({ ...p }, 'revoke'));
    expect(c.messageId(p, 'revoke')).not.toBe(c.messageId(p, 'reduce'));
    expect(c.messageId(p, 'reduce')).not.toBe(c.messageId({ ...p, planVersion: 4 }, 'reduce'));
    expect(c.messageId(p, 'revoke')).not.toBe(c.messageId({ ...p, cycle: 2 }, 'revoke'));
    expect(c.messageId(p, 'verify')).not.toBe(c.messageId(p, 'verify'));
    // Sent for its own milestone, an effect keeps the id earlier versions gave it…
    expect(c.messageId({ ...p, effect: 'revoke' }, 'revoke')).toBe(c.messageId(p, 'revoke'));
    // …and verify's re-disable is not a repeat of revoke's disable.
    expect(c.messageId({ ...p, effect: 'verify' }, 'disable')).not.toBe(
      c.messageId({ ...p, effect: 'revoke' }, 'disable'),
    );
  });
});
