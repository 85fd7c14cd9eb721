/**
 * Lost responses: a peer that applies a change and then answers 504 (a
 * gateway timing out in front of a server that did the work) on about 10 % of
 * calls. lastday cannot tell that from a failure and retries; nothing may be
 * applied twice.
 *
 * - SCIM: a real SCIM server (scimmy) applies every 10th write and answers 504.
 *   Many people are reduced, revoked and verified; every privileged and
 *   remaining group membership is removed exactly once, every account
 *   deactivated exactly once, and each effect audited once.
 * - Managed execution: a tool's callback server records (applies) every 10th
 *   action's first call and answers 504. lastday calls again; every call of an
 *   action carries the same `webhook-id`, so a receiver that dedupes on it, as
 *   Standard Webhooks asks, applies each action exactly once; and exactly one
 *   call per action is answered 2xx (a callback succeeds at most once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { type CallbackServer, startCallbackServer } from '../helpers/callbackServer.ts';
import { client } from '../helpers/guard.ts';
import { ACTION_SECRET, bearer, eventually, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';
import { allDone, effectEntries, offboardSoon } from '../helpers/offboarding.ts';
import { type ScimTestServer, startScimServer } from '../helpers/scimServer.ts';

const PEOPLE = 30;
const ACTIONS = 60;

let scim: ScimTestServer;
let cb: CallbackServer;
let rt: Runtime;

beforeAll(async () => {
  scim = await startScimServer();
  cb = await startCallbackServer(ACTION_SECRET);
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
    { env: { IDP_SCIM_TOKEN: scim.token }, workers: { callbackRetryBaseMs: 50 } },
  );
});
afterAll(async () => {
  await rt?.stop();
  await scim?.close();
  await cb?.close();
});

describe('a peer that applies the change and then answers 504 on ~10 % of calls', () => {
  it('SCIM: no membership or account change is applied twice', async () => {
    scim.faults.applyThenFailEvery = 10;
    const people = Array.from({ length: PEOPLE }, (_, i) => {
      const personId = `lost-${i}`;
      const user = scim.addUser({ userName: personId });
      const groups = [
        scim.addGroup(`app-${i}-admins`, [user.id]),
        scim.addGroup(`prod-${i}`, [user.id]),
        scim.addGroup(`staff-${i}`, [user.id]),
      ];
      return { personId, user, groups };
    });
    await Promise.all(people.map((p) => offboardSoon(rt, p.personId, 3)));
    await eventually(async () => {
      for (const p of people) if (!(await allDone(rt, p.personId))) return false;
      return true;
    }, 45_000);

    const lost = scim.responses.filter((r) => r.status === 504).length;
    expect(lost).toBeGreaterThanOrEqual(PEOPLE / 5); // the fault really fired, on about 10 % of writes
    for (const p of people) {
      for (const g of p.groups)
        expect(
          scim.changesFor(p.user.id, g.id).map((c) => c.op),
          `${p.personId} ${g.displayName}`,
        ).toEqual(['remove']);
      expect(scim.store.activeChanges.filter((a) => a.userId === p.user.id)).toEqual([
        { userId: p.user.id, active: false },
      ]);
      expect(await effectEntries(rt, p.personId, 'effect.reduce', 'idp')).toHaveLength(1);
      expect(await effectEntries(rt, p.personId, 'effect.revoke', 'idp')).toHaveLength(1);
    }
  }, 60_000);

  it('managed execution: each action is applied once by a receiver deduping on webhook-id', async () => {
    const api = client(rt);
    const ids = Array.from({ length: ACTIONS }, (_, i) => `lost-action-${i}`);
    // Every 10th action's first call is applied by the tool and answered 504.
    ids.forEach((id, i) => {
      if (i % 10 === 0) cb.script(`/${id}`, [504]);
    });
    const executeAt = new Date(Date.now() + 300).toISOString();
    for (const id of ids) {
      const reg = await api(
        'POST',
        '/v1/actions',
        {
          actionId: id,
          initiatorId: 'tool-runner',
          kind: 'account.deactivate',
          target: `account:${id}`,
          executeAt,
          callbackUrl: `${cb.url}/${id}`,
        },
        bearer(TOKENS.system),
      );
      expect(reg.status).toBe(201);
    }
    const state = async (id: string) =>
      (await api('GET', `/v1/actions/${id}`, undefined, bearer(TOKENS.viewer))).body.state;
    await eventually(async () => {
      for (const id of ids) if ((await state(id)) !== 'executed') return false;
      return true;
    }, 30_000);

    // What the tool saw: every call signed, every call of one action under one webhook-id.
    const calls = cb.calls.filter((c) => ids.includes(c.body.actionId));
    expect(calls.every((c) => c.signatureOk)).toBe(true);
    expect(calls.filter((c) => c.status === 504)).toHaveLength(ACTIONS / 10);
    const applied = new Map<string, number>(); // webhook-id → times applied by a deduping receiver
    const webhookIdsOf = new Map<string, Set<string>>();
    for (const c of calls) {
      applied.set(c.webhookId, 1);
      webhookIdsOf.set(c.body.actionId, (webhookIdsOf.get(c.body.actionId) ?? new Set()).add(c.webhookId));
    }
    for (const id of ids) {
      expect(webhookIdsOf.get(id)?.size, id).toBe(1);
      expect(
        cb.callsTo(`/${id}`).filter((c) => c.status >= 200 && c.status < 300),
        id,
      ).toHaveLength(1);
    }
    expect(applied.size).toBe(ACTIONS);
    // The lost answers were redelivered (what the dedupe is for), nothing else was.
    expect(calls).toHaveLength(ACTIONS + ACTIONS / 10);
    // No call after success: a while later the count has not moved.
    await new Promise((r) => setTimeout(r, 500));
    expect(cb.calls.filter((c) => ids.includes(c.body.actionId))).toHaveLength(ACTIONS + ACTIONS / 10);
  }, 45_000);
});
