/**
 * Shared set-up of the guard's integration tests: tokens (two approvers, a
 * departing one, one without a person), a config with protected targets and
 * cancelOnFreeze, a JSON client and signed HR events.
 */
import { expect } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { sha256Hex } from '../../src/http/auth.ts';
import { hrEvent } from './events.ts';
import { api } from './http.ts';
import { bearer, eventually, signedHeaders, TOKENS, testSettings } from './lastday.ts';

export const EXTRA = {
  approver2: 'approver-2-token',
  departing: 'departing-approver-token',
  nobody: 'approver-without-person-token',
} as const;

export const tokens = [
  { name: 'viewer', role: 'viewer', sha256: sha256Hex(TOKENS.viewer) },
  { name: 'approver', role: 'approver', personId: 'approver-1', sha256: sha256Hex(TOKENS.approver) },
  { name: 'approver-2', role: 'approver', personId: 'approver-2', sha256: sha256Hex(EXTRA.approver2) },
  { name: 'departing', role: 'approver', personId: 'dep-1', sha256: sha256Hex(EXTRA.departing) },
  { name: 'no-person', role: 'approver', sha256: sha256Hex(EXTRA.nobody) },
  { name: 'admin', role: 'admin', personId: 'admin-1', sha256: sha256Hex(TOKENS.admin) },
  { name: 'system', role: 'system', sha256: sha256Hex(TOKENS.system) },
];

/** Guard test settings: the tokens above, `account:@vip-*` protected, `data.delete*` cancelled on freeze. */
export function settings(policy: Record<string, unknown> = {}) {
  return testSettings({
    auth: { tokens },
    protectedTargets: ['account:@vip-*'],
    policy: { cancelOnFreeze: ['data.delete*'], ...policy },
  });
}

export function client(rt: Runtime) {
  return (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    api(rt.url!, method, path, body, headers);
}

/**
 * Registers an action as `system`: by default `p-active`'s `account.deactivate`
 * on `account:<actionId>`; `body` adds the rest (`executeAt`, `callbackUrl`…)
 * and overrides any of these.
 */
export function registerAction(rt: Runtime, actionId: string, body: Record<string, unknown> = {}) {
  return client(rt)(
    'POST',
    '/v1/actions',
    { actionId, initiatorId: 'p-active', kind: 'account.deactivate', target: `account:${actionId}`, ...body },
    bearer(TOKENS.system),
  );
}

export async function sendHr(rt: Runtime, event: Record<string, unknown>) {
  const body = JSON.stringify(event);
  const res = await fetch(`${rt.url}/v1/hr-events`, { method: 'POST', headers: signedHeaders(body), body });
  expect(res.status).toBe(202);
}

export async function statusOf(rt: Runtime, personId: string) {
  const res = await client(rt)(
    'GET',
    `/v1/people/${encodeURIComponent(personId)}`,
    undefined,
    bearer(TOKENS.viewer),
  );
  return res.body?.status as string | undefined;
}

/**
 * A leaver's pending action, then their termination: the action becomes held
 * at `freeze`, and an action they register afterwards is held at once. Shared
 * by the cluster tests (one slot, and 16 partitions); each goes on from there.
 * Action ids are `<ids>-pending` and `<ids>-late`.
 */
export async function leaverFreezeScenario(rt: Runtime, leaver: string, ids: string): Promise<void> {
  const api = client(rt);
  const system = bearer(TOKENS.system);
  const before = await api(
    'POST',
    '/v1/actions',
    { actionId: `${ids}-pending`, initiatorId: leaver, kind: 'account.deactivate', target: 'account:1' },
    system,
  );
  expect(before.body.state).toBe('pending');
  expect((await api('POST', `/v1/actions/${ids}-pending/gate`, undefined, system)).body.decision).toBe(
    'allow',
  );
  await sendHr(
    rt,
    hrEvent({ personId: leaver, type: 'contract.terminated', effectiveAt: new Date().toISOString() }),
  );
  await eventually(async () => (await statusOf(rt, leaver)) === 'revoked', 20_000);
  expect((await api('GET', `/v1/actions/${ids}-pending`, undefined, bearer(TOKENS.viewer))).body.state).toBe(
    'held',
  );
  const late = await api(
    'POST',
    '/v1/actions',
    { actionId: `${ids}-late`, initiatorId: leaver, kind: 'account.deactivate', target: 'account:2' },
    system,
  );
  expect(late.body.state).toBe('held');
}
