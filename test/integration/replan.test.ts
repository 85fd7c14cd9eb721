/**
 * Replans on real Redis (contract section 3): extensions and cancellations give
 * reduced grants back, terminations revoke at once, and milestone jobs are safe
 * to run twice or late. The first block runs real workers; the second calls the
 * processors directly on a context without workers, so each run is explicit.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { runMilestoneJob } from '../../jobs/milestone.ts';
import type { Context } from '../../src/app/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { type Connector, ConnectorError } from '../../src/connectors/connector.ts';
import { hrEventSchema } from '../../src/domain/hrEvent.ts';
import type { MilestoneName } from '../../src/domain/milestone.ts';
import { endingSoon, type EventOverrides, hrEvent } from '../helpers/events.ts';
import { api, postEvent } from '../helpers/http.ts';
import { bearer, eventually, TOKENS, testContext, testRuntime, testSettings } from '../helpers/lastday.ts';

const GRANTS = [
  { id: 'g-admin', system: 'cms', role: 'admin', privileged: true },
  { id: 'g-prod', system: 'aws', role: 'prod-admin', privileged: true },
  { id: 'g-read', system: 'cms', role: 'reader', privileged: false },
];

/** lastDay/endTime an hour ahead: reduce and (usually) freeze are already due. */
function endingInAnHour(o: EventOverrides = {}): EventOverrides {
  const soon = endingSoon(3600);
  return { lastDay: soon.lastDay, endTime: soon.endTime, timezone: soon.timezone, ...o };
}

/** occurredAt values in order, so later events are never stale. */
let tick = Date.parse('2026-11-20T00:00:00Z');
function nextOccurredAt(): string {
  tick += 60_000;
  return new Date(tick).toISOString();
}

describe('with real workers', () => {
  let rt: Runtime;
  let url: string;
  beforeAll(async () => {
    rt = await testRuntime(testSettings());
    url = rt.url!;
  });
  afterAll(async () => {
    await rt?.stop();
  });

  const viewer = bearer(TOKENS.viewer);
  const path = (id: string) => encodeURIComponent(id);
  const directoryUser = async (id: string) =>
    (await api(url, 'GET', `/v1/directory/users/${path(id)}`, undefined, viewer)).body;
  const personOf = async (id: string) =>
    (await api(url, 'GET', `/v1/people/${path(id)}`, undefined, viewer)).body;
  const grantIds = (user: { grants: { id: string }[] }) => user.grants.map((g) => g.id).sort();

  async function setUpReduced(id: string) {
    const put = await api(
      url,
      'PUT',
      `/v1/directory/users/${path(id)}`,
      { active: true, grants: GRANTS },
      bearer(TOKENS.admin),
    );
    expect(put.status).toBe(200);
    const res = await postEvent(
      url,
      hrEvent({ personId: id, occurredAt: nextOccurredAt(), ...endingInAnHour() }),
    );
    expect(res.status).toBe(202);
    await eventually(async () => {
      const user = await directoryUser(id);
      return user.grants.length === 1 && user.grants[0].id === 'g-read';
    });
    await eventually(async () => {
      const p = await personOf(id);
      return p.milestones.find((m: { name: string }) => m.name === 'reduce').state === 'done';
    });
  }

  it('an extension after reduce restores the privileged grants', async () => {
    const id = 'replan/extend:1';
    await setUpReduced(id);
    const ext = hrEvent({ personId: id, occurredAt: nextOccurredAt(), lastDay: '2030-12-06' });
    expect((await postEvent(url, ext)).status).toBe(202);
    const user = await eventually(async () => {
      const u = await directoryUser(id);
      return u.grants.length === 3 ? u : undefined;
    });
    expect(grantIds(user)).toEqual(['g-admin', 'g-prod', 'g-read']);
    expect(user.active).toBe(true);
    const p = await personOf(id);
    expect(p.status).toBe('scheduled');
    expect(p.lastDay).toBe('2030-12-06');
    expect(p.milestones.find((m: { name: string }) => m.name === 'reduce')).toMatchObject({
      state: 'scheduled',
    });
  });

  it('a cancellation before revoke restores the grants and cancels what is left', async () => {
    const id = 'replan-cancel';
    await setUpReduced(id);
    const cancel = hrEvent({ personId: id, type: 'offboarding.cancelled', occurredAt: nextOccurredAt() });
    expect((await postEvent(url, cancel)).status).toBe(202);
    const user = await eventually(async () => {
      const u = await directoryUser(id);
      return u.grants.length === 3 ? u : undefined;
    });
    expect(user.active).toBe(true);
    const p = await eventually(async () => {
      const body = await personOf(id);
      return body.status === 'cancelled' ? body : undefined;
    });
    expect(p.reinstatement_required).toBe(false);
    for (const m of p.milestones) {
      if (m.name === 'revoke' || m.name === 'verify') expect(m.state).toBe('cancelled');
    }
    expect(p.milestones.some((m: { state: string }) => m.state === 'scheduled')).toBe(false);
  });

  it('a termination revokes at once', async () => {
    const id = 'replan-terminate';
    await api(
      url,
      'PUT',
      `/v1/directory/users/${path(id)}`,
      { active: true, grants: GRANTS },
      bearer(TOKENS.admin),
    );
    const planned = hrEvent({ personId: id, occurredAt: nextOccurredAt(), lastDay: '2030-12-06' });
    expect((await postEvent(url, planned)).status).toBe(202);
    await eventually(async () => (await personOf(id)).milestones);
    const term = hrEvent({ personId: id, type: 'contract.terminated', occurredAt: nextOccurredAt() });
    expect((await postEvent(url, term)).status).toBe(202);
    // Disabled first, grants removed in a second write: wait for both.
    const user = await eventually(async () => {
      const u = await directoryUser(id);
      return u.active === false && u.grants?.length === 0 ? u : undefined;
    });
    expect(user.active).toBe(false);
    expect(user.grants).toEqual([]);
    const p = await eventually(async () => {
      const body = await personOf(id);
      return body.status === 'revoked' ? body : undefined;
    });
    expect(Date.parse(p.endsAt)).toBeLessThanOrEqual(Date.now());
    expect(p.milestones.find((m: { name: string }) => m.name === 'notice').state).toBe('cancelled');
  });
});

describe('with real workers: late events', () => {
  let rt: Runtime;
  let url: string;
  beforeAll(async () => {
    rt = await testRuntime(testSettings());
    url = rt.url!;
  });
  afterAll(async () => {
    await rt?.stop();
  });
  const viewer = bearer(TOKENS.viewer);

  it('an ending entirely in the past runs every milestone at once, in contract order', async () => {
    const id = 'late-ending';
    await api(
      url,
      'PUT',
      `/v1/directory/users/${id}`,
      { active: true, grants: GRANTS },
      bearer(TOKENS.admin),
    );
    const lastDay = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    expect(
      (await postEvent(url, hrEvent({ personId: id, occurredAt: nextOccurredAt(), lastDay }))).status,
    ).toBe(202);
    const p = await eventually(async () => {
      const body = (await api(url, 'GET', `/v1/people/${id}`, undefined, viewer)).body;
      return body?.milestones?.every((m: { state: string }) => m.state === 'done') ? body : undefined;
    });
    expect(p.status).toBe('revoked');
    const audit = (await api(url, 'GET', `/v1/audit?personId=${id}`, undefined, viewer)).body.entries;
    const done = audit.filter((e: { type: string }) => e.type === 'milestone.done');
    expect(done.map((e: { details: { milestone: string } }) => e.details.milestone)).toEqual([
      'notice',
      'reduce',
      'freeze',
      'revoke',
      'verify',
    ]);
    const user = (await api(url, 'GET', `/v1/directory/users/${id}`, undefined, viewer)).body;
    expect(user).toMatchObject({ active: false, grants: [] });
  });

  it('a cancellation after revoke re-enables nothing and flags reinstatement_required', async () => {
    const id = 'late-cancel';
    await api(
      url,
      'PUT',
      `/v1/directory/users/${id}`,
      { active: true, grants: GRANTS },
      bearer(TOKENS.admin),
    );
    const term = hrEvent({ personId: id, type: 'contract.terminated', occurredAt: nextOccurredAt() });
    expect((await postEvent(url, term)).status).toBe(202);
    await eventually(async () => {
      const body = (await api(url, 'GET', `/v1/people/${id}`, undefined, viewer)).body;
      return body?.status === 'revoked';
    });
    const cancel = hrEvent({ personId: id, type: 'offboarding.cancelled', occurredAt: nextOccurredAt() });
    expect((await postEvent(url, cancel)).status).toBe(202);
    const p = await eventually(async () => {
      const body = (await api(url, 'GET', `/v1/people/${id}`, undefined, viewer)).body;
      return body?.status === 'cancelled' ? body : undefined;
    });
    expect(p.reinstatement_required).toBe(true);
    const user = (await api(url, 'GET', `/v1/directory/users/${id}`, undefined, viewer)).body;
    expect(user).toMatchObject({ active: false, grants: [] });
    const types = (await api(url, 'GET', `/v1/audit?personId=${id}`, undefined, viewer)).body.entries.map(
      (e: { type: string }) => e.type,
    );
    expect(types).not.toContain('effect.restore');
  });
});

describe('milestone jobs run directly', () => {
  let ctx: Context;
  // The context's clock runs with real time, moved ahead by the tests that need
  // a later milestone's instant to have come.
  let aheadMs = 0;
  beforeAll(async () => {
    ctx = await testContext(testSettings(), () => new Date(Date.now() + aheadMs));
  });
  afterEach(() => {
    aheadMs = 0;
  });
  const moveClockTo = (iso: string) => {
    aheadMs = Date.parse(iso) - Date.now();
  };
  afterAll(async () => {
    await ctx?.close();
  });

  const parse = (o: EventOverrides) => hrEventSchema.parse(hrEvent({ occurredAt: nextOccurredAt(), ...o }));
  const effectCounts = async (personId: string) => {
    const entries = await ctx.audit.list({ personId });
    const counts: Record<string, number> = {};
    for (const e of entries) if (e.type.startsWith('effect.')) counts[e.type] = (counts[e.type] ?? 0) + 1;
    return counts;
  };
  const job = (personId: string, version: number, milestone: MilestoneName) => ({
    personId,
    version,
    milestone,
  });

  it('a milestone job run twice does each effect once', async () => {
    const id = 'direct/twice:1';
    await ctx.directory.put(id, { active: true, grants: GRANTS }, new Date().toISOString());
    const applied = await applyEvent(ctx, parse({ personId: id, ...endingInAnHour() }));
    expect(applied.outcome).toBe('applied');
    const version = (await ctx.people.get(id))!.planVersion;

    // revoke's job, run early on purpose (promoted by hand): it does nothing.
    expect((await runMilestoneJob(ctx, job(id, version, 'revoke'))).outcome).toBe('early');
    expect(await effectCounts(id)).toEqual({});
    // At its instant: the past-due ones before it run first.
    moveClockTo((await ctx.people.get(id))!.endsAt!);
    const first = await runMilestoneJob(ctx, job(id, version, 'revoke'));
    expect(first.outcome).toBe('done');
    const second = await runMilestoneJob(ctx, job(id, version, 'revoke'));
    expect(second.outcome).toBe('not_open');
    // And the earlier ones' own jobs, arriving afterwards, do nothing either.
    expect((await runMilestoneJob(ctx, job(id, version, 'reduce'))).outcome).toBe('not_open');

    // The built-in directory disables and removes in one write, audited once.
    expect(await effectCounts(id)).toEqual({
      'effect.reduce': 1,
      'effect.revoke': 1,
    });
    const user = (await ctx.directory.get(id))!;
    expect(user.active).toBe(false);
    expect(user.grants).toEqual([]);
    const record = (await ctx.people.get(id))!;
    expect(record.milestones.filter((m) => m.state === 'done').map((m) => m.name)).toEqual(
      expect.arrayContaining(['reduce', 'freeze', 'revoke']),
    );
    const done = (await ctx.audit.list({ personId: id })).filter((e) => e.type === 'milestone.done');
    expect(done.map((e) => e.details.milestone)).toEqual(['notice', 'reduce', 'freeze', 'revoke']);
    expect((await ctx.audit.verify()).ok).toBe(true);
  });

  it('verify finds access back after revoke: revokes it again and raises an alert', async () => {
    const id = 'direct-drift';
    await ctx.directory.put(id, { active: true, grants: GRANTS }, new Date().toISOString());
    await applyEvent(ctx, parse({ personId: id, type: 'contract.terminated' }));
    const version = (await ctx.people.get(id))!.planVersion;
    expect((await runMilestoneJob(ctx, job(id, version, 'revoke'))).outcome).toBe('done');
    // Someone turns the account back on before verify.
    await ctx.directory.put(id, { active: true, grants: [GRANTS[0]!] }, new Date().toISOString());
    const verify = (await ctx.people.get(id))!.milestones.find((m) => m.name === 'verify')!;
    expect((await runMilestoneJob(ctx, job(id, version, 'verify'))).outcome).toBe('early');
    moveClockTo(verify.dueAt);
    expect((await runMilestoneJob(ctx, job(id, version, 'verify'))).outcome).toBe('done');
    expect(await ctx.directory.get(id)).toMatchObject({ active: false, grants: [] });
    const entries = await ctx.audit.list({ personId: id });
    expect(entries.find((e) => e.type === 'effect.verify')?.details).toMatchObject({ drift: true });
    expect(entries.map((e) => e.type)).toContain('alert.drift');
    expect((await ctx.people.get(id))!.milestones.every((m) => m.state === 'done')).toBe(true);
  });

  it('a job of a superseded plan version does nothing', async () => {
    const id = 'direct-stale';
    await ctx.directory.put(id, { active: true, grants: GRANTS }, new Date().toISOString());
    await applyEvent(ctx, parse({ personId: id, ...endingInAnHour() }));
    const v1 = (await ctx.people.get(id))!.planVersion;
    await applyEvent(ctx, parse({ personId: id, lastDay: '2030-12-06' }));
    const v2 = (await ctx.people.get(id))!.planVersion;
    expect(v2).toBeGreaterThan(v1);

    const result = await runMilestoneJob(ctx, job(id, v1, 'revoke'));
    expect(result.outcome).toBe('stale');
    expect(await effectCounts(id)).toEqual({});
    const user = (await ctx.directory.get(id))!;
    expect(user.active).toBe(true);
    expect(user.grants).toHaveLength(3);
    expect((await ctx.people.get(id))!.milestones.every((m) => m.state === 'scheduled')).toBe(true);
  });

  /** A second connector that refuses every call, next to the directory. */
  const failing: Connector = {
    name: 'flaky',
    type: 'test',
    read: () => Promise.reject(new ConnectorError('flaky is down', true)),
    removeGrants: () => Promise.reject(new ConnectorError('flaky is down', true)),
    restoreGrants: () => Promise.reject(new ConnectorError('flaky is down', true)),
    disable: () => Promise.reject(new ConnectorError('flaky is down', true)),
    enable: () => Promise.reject(new ConnectorError('flaky is down', true)),
  };

  it('a cancellation after a partial revoke re-enables nothing and flags reinstatement_required', async () => {
    const id = 'direct-half-revoked';
    ctx.connectors.push(failing);
    try {
      await ctx.directory.put(id, { active: true, grants: GRANTS }, new Date().toISOString());
      await applyEvent(ctx, parse({ personId: id, type: 'contract.terminated' }));
      const version = (await ctx.people.get(id))!.planVersion;
      // revoke (with reduce and freeze caught up): done in the directory, failing in flaky.
      await expect(runMilestoneJob(ctx, job(id, version, 'revoke'))).rejects.toThrow(/flaky/);
      expect(await ctx.directory.get(id)).toMatchObject({ active: false, grants: [] });

      const cancel = await applyEvent(ctx, parse({ personId: id, type: 'offboarding.cancelled' }));
      expect(cancel.outcome).toBe('applied');
      const record = (await ctx.people.get(id))!;
      expect(record.cancelled).toBe(true);
      // The directory account was disabled: someone must decide to re-enable it.
      expect(record.reinstatementRequired).toBe(true);
      expect(await ctx.directory.get(id)).toMatchObject({ active: false, grants: [] });
      expect(await effectCounts(id)).not.toHaveProperty('effect.restore');
      // What the partial revoke removed is kept for a reinstatement, for the window from its dueAt.
      const revoke = record.milestones.find((m) => m.name === 'revoke')!;
      const until = await ctx.redis.zscore(ctx.keys.snapshotsUntil, JSON.stringify([record.cycle, id]));
      expect(Number(until)).toBe(Date.parse(revoke.dueAt) + ctx.policy.reinstateWithinDays * 86_400_000);
    } finally {
      ctx.connectors.splice(ctx.connectors.indexOf(failing), 1);
    }
  });

  it('a redelivered event while reduce is half done does not give grants back', async () => {
    const id = 'direct-half-reduced';
    ctx.connectors.push(failing);
    try {
      await ctx.directory.put(id, { active: true, grants: GRANTS }, new Date().toISOString());
      const soon = endingInAnHour();
      const event = parse({ personId: id, ...soon });
      await applyEvent(ctx, event);
      const version = (await ctx.people.get(id))!.planVersion;
      // reduce is due: the directory is reduced, flaky fails (the job will retry).
      await expect(runMilestoneJob(ctx, job(id, version, 'reduce'))).rejects.toThrow(/flaky/);
      expect((await ctx.directory.get(id))!.grants.map((g) => g.id)).toEqual(['g-read']);

      // At-least-once delivery: the same event again, and a newer one that leaves reduce due.
      expect((await applyEvent(ctx, event)).outcome).toBe('duplicate');
      expect((await ctx.directory.get(id))!.grants.map((g) => g.id)).toEqual(['g-read']);
      expect((await applyEvent(ctx, parse({ personId: id, ...soon, endTime: '23:59:59' }))).outcome).toBe(
        'applied',
      );
      expect((await ctx.directory.get(id))!.grants.map((g) => g.id)).toEqual(['g-read']);
    } finally {
      ctx.connectors.splice(ctx.connectors.indexOf(failing), 1);
    }
  });
});
