/**
 * The built-in directory's PUT (role admin) cannot undo an offboarding by
 * itself. Re-enabling a revoked person, or giving them grants back, is a
 * reinstatement, which a second person approves (contract v1.1 section 3: the
 * 2017 account was restored by one person); and a person already `reduced` or
 * `frozen` gets no privileged grant that `reduce` would have removed. The PUT
 * answers `409 conflict` and changes nothing; anything else still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { hrEvent } from '../helpers/events.ts';
import { client, sendHr, settings, statusOf } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testRuntime } from '../helpers/lastday.ts';

const GRANTS = [
  { id: 'g-admin', system: 'cms', role: 'admin', privileged: true },
  { id: 'g-read', system: 'cms', role: 'reader', privileged: false },
];

describe('PUT /v1/directory/users/:personId on a leaver', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  const admin = bearer(TOKENS.admin);
  const put = (id: string, body: unknown) =>
    api('PUT', `/v1/directory/users/${encodeURIComponent(id)}`, body, admin);
  const user = async (id: string) =>
    (await api('GET', `/v1/directory/users/${encodeURIComponent(id)}`, undefined, bearer(TOKENS.viewer)))
      .body;

  beforeAll(async () => {
    rt = await testRuntime(settings());
    api = client(rt);
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('refuses to re-enable a revoked person or give them grants; disabling them again is fine', async () => {
    const id = 'dir/revoked:1';
    expect((await put(id, { active: true, grants: GRANTS })).status).toBe(200);
    await sendHr(
      rt,
      hrEvent({ personId: id, type: 'contract.terminated', effectiveAt: new Date().toISOString() }),
    );
    await eventually(async () => (await statusOf(rt, id)) === 'revoked', 20_000);
    await eventually(async () => (await user(id)).grants.length === 0);

    for (const body of [
      { active: true, grants: GRANTS },
      { active: true, grants: [] },
      { active: false, grants: [GRANTS[1]] },
    ]) {
      const res = await put(id, body);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('conflict');
      expect(res.body.error.message).toMatch(/reinstatement/);
    }
    expect(await user(id)).toMatchObject({ active: false, grants: [] });
    const types = (await rt.ctx.shardOf(id).audit.list({ personId: id })).map((e) => e.type);
    expect(types.filter((t) => t === 'directory.user_put')).toHaveLength(1);

    expect((await put(id, { active: false, grants: [] })).status).toBe(200);
  });

  it('refuses a privileged grant to a reduced person, and takes the rest', async () => {
    const id = 'dir/reduced:1';
    expect((await put(id, { active: true, grants: GRANTS })).status).toBe(200);
    // Last day tomorrow (UTC date) in UTC-11: reduce (2 business days before,
    // 09:00) has passed, freeze (00:00 of the last day) has not.
    const lastDay = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await sendHr(rt, hrEvent({ personId: id, lastDay, timezone: 'Pacific/Pago_Pago' }));
    await eventually(async () => (await statusOf(rt, id)) === 'reduced', 20_000);
    await eventually(async () => (await user(id)).grants.length === 1);

    const res = await put(id, { active: true, grants: GRANTS });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(await user(id)).toMatchObject({ active: true, grants: [GRANTS[1]] });

    const reader2 = { id: 'g-read-2', system: 'wiki', role: 'reader', privileged: false };
    expect((await put(id, { active: true, grants: [GRANTS[1], reader2] })).status).toBe(200);
  });
});
