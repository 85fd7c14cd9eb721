/**
 * The revoke and verify effects step by step, on the test Redis with real
 * peers (the scimmy SCIM server, the webhook receiver, the built-in
 * directory): a retry after a partial failure skips what is recorded, two
 * overlapping runs record and audit once, verify disables before anything
 * else and alerts on drift once, and a failing read at verify still leaves
 * the account disabled. Each call is explicit here; disableFirst.test.ts
 * drives the same rules through real workers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/app/context.ts';
import { DirectoryConnector } from '../../src/connectors/directory.ts';
import { DirectoryRevoke } from '../../src/store/directoryRevoke.ts';
import { WebhookConnector } from '../../src/connectors/webhook.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import {
  type EffectDeps,
  EffectFailure,
  revokeAccess,
  revokeTookEffect,
  verifyAccess,
} from '../../src/effects/connectorEffects.ts';
import { testContext } from '../helpers/lastday.ts';
import { scimConnectorFor, type ScimTestServer, startScimServer } from '../helpers/scimServer.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhookReceiver.ts';

const SECRET = `whsec_${Buffer.from('lastday-revoke-effects-secret-012').toString('base64')}`;
const fastRetry = { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 };

let ctx: Context;
let scim: ScimTestServer;
let receiver: WebhookReceiver;
let deps: EffectDeps;

beforeAll(async () => {
  ctx = await testContext();
  scim = await startScimServer();
  receiver = await startWebhookReceiver(SECRET);
  const idp = scimConnectorFor(scim, {}, { retry: fastRetry });
  const tools = new WebhookConnector(
    { name: 'tools', url: receiver.url, timeoutMs: 2_000, concurrency: 4 },
    { secret: SECRET, retry: fastRetry },
  );
  deps = {
    connectors: [new DirectoryConnector(ctx.directory, ctx.now), idp, tools],
    effects: ctx.effects,
    alerts: ctx.alerts,
    metrics: ctx.metrics,
    log: ctx.log,
    now: ctx.now,
  };
});
afterAll(async () => {
  await ctx?.close();
  await scim?.close();
  await receiver?.close();
});
beforeEach(() => {
  for (const k of Object.keys(scim.faults)) delete scim.faults[k as keyof typeof scim.faults];
  scim.userGroups = 'full';
  receiver.down = undefined;
  receiver.downOnly = undefined;
});

let n = 0;
/** A person in all three systems, each with a privileged and a plain grant. */
async function seed() {
  const id = `re-${++n}`;
  await ctx.directory.put(
    id,
    {
      active: true,
      grants: [
        { id: 'g-admin', system: 'cms', role: 'admin', privileged: true },
        { id: 'g-read', system: 'cms', role: 'reader', privileged: false },
      ],
    },
    new Date().toISOString(),
  );
  const user = scim.addUser({ userName: id });
  const admins = scim.addGroup(`ops-${n}-admins`, [user.id]);
  const staff = scim.addGroup(`staff-${n}`, [user.id]);
  receiver.access.set(id, {
    active: true,
    grants: [
      { id: 'billing-admin', role: 'admin', privileged: true },
      { id: 'wiki', role: 'reader', privileged: false },
    ],
  });
  const record = { person: { id }, cycle: 1, planVersion: 1 } as unknown as PersonRecord;
  return { id, user, admins, staff, record };
}

const audit = async (id: string, type: string) =>
  (await ctx.audit.list({ personId: id, limit: 1000 })).filter((e) => e.type === type);

describe('revoke, step by step', () => {
  it('records the disables, fails on the rest, and a retry skips what is recorded', async () => {
    const { id, user, staff, record } = await seed();
    scim.userGroups = 'omit';
    scim.faults.rules = [{ method: 'GET', path: '/Groups', status: 503 }];
    const err = await revokeAccess(deps, record).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EffectFailure);
    const outcomes = Object.fromEntries((err as EffectFailure).outcomes.map((o) => [o.connector, o]));
    expect(outcomes.idp).toMatchObject({ status: 'failed', disabled: true, retryable: true });
    expect(outcomes.directory).toMatchObject({ status: 'done', disabled: true });
    expect(outcomes.tools).toMatchObject({ status: 'done', disabled: true });
    expect((err as Error).message).toContain('account disabled; removing the rest failed');
    expect(scim.store.users.get(user.id)?.active).toBe(false);
    expect(await revokeTookEffect(deps, record)).toBe(true);

    scim.faults.rules = [];
    const patchesBefore = scim.requests.filter((r) => r.startsWith('PATCH /Users')).length;
    const second = await revokeAccess(deps, record);
    expect(Object.fromEntries(second.map((o) => [o.connector, o.status]))).toEqual({
      directory: 'skipped',
      idp: 'done',
      tools: 'skipped',
    });
    // The disable was not sent again.
    expect(scim.requests.filter((r) => r.startsWith('PATCH /Users')).length).toBe(patchesBefore);
    expect(scim.groupsOf(user.id)).toEqual([]);
    expect(scim.changesFor(user.id, staff.id).map((c) => c.op)).toEqual(['remove']);
    for (const type of ['effect.disable', 'effect.revoke']) {
      expect((await audit(id, type)).map((e) => e.details.connector).sort()).toEqual([
        'directory',
        'idp',
        'tools',
      ]);
    }
    // Disables are all audited before any removal.
    const entries = await ctx.audit.list({ personId: id, limit: 1000 });
    const lastDisable = Math.max(...entries.filter((e) => e.type === 'effect.disable').map((e) => e.seq));
    const firstRevoke = Math.min(...entries.filter((e) => e.type === 'effect.revoke').map((e) => e.seq));
    expect(lastDisable).toBeLessThan(firstRevoke);
  });

  it('two overlapping runs record and audit each step once', async () => {
    const { id, user, record } = await seed();
    await Promise.all([revokeAccess(deps, record), revokeAccess(deps, record)]);
    expect(await audit(id, 'effect.disable')).toHaveLength(3);
    expect(await audit(id, 'effect.revoke')).toHaveLength(3);
    expect(scim.groupsOf(user.id)).toEqual([]);
    expect(scim.store.activeChanges.filter((a) => a.userId === user.id)).toHaveLength(1);
    expect(await ctx.directory.get(id)).toMatchObject({ active: false, grants: [] });
  });

  it('does not count a person with no account anywhere as revoked', async () => {
    const record = { person: { id: 'nobody-here' }, cycle: 1, planVersion: 1 } as unknown as PersonRecord;
    const outcomes = await revokeAccess(deps, record);
    expect(outcomes.map((o) => o.status)).toEqual(['not_found', 'not_found', 'not_found']);
    expect(await revokeTookEffect(deps, record)).toBe(false);
    expect(await ctx.directory.get('nobody-here')).toBeUndefined();
  });
});

describe('revoke in the built-in directory, in one write', () => {
  const atOnce = (redis = ctx.redis) => ({
    ...deps,
    connectors: [
      new DirectoryConnector(
        ctx.directory,
        ctx.now,
        'directory',
        new DirectoryRevoke(redis, ctx.keys, ctx.audit),
      ),
    ],
  });

  it('disables, removes and records with one audit entry; a second run does nothing', async () => {
    const { id, record } = await seed();
    await ctx.redis.hset(ctx.keys.directoryGrants(id), 'g-legacy', 'admin;cms');
    const [outcome] = await revokeAccess(atOnce(), record);
    expect(outcome).toEqual({
      connector: 'directory',
      status: 'done',
      disabled: true,
      grants: ['g-admin', 'g-read', 'g-legacy'],
    });
    expect(await ctx.directory.get(id)).toMatchObject({ active: false, grants: [] });
    expect(await ctx.redis.hget(ctx.keys.directoryUser(id), 'disabledAt')).toBeTruthy();
    const revoked = await ctx.effects.get<{ grants: { id: string; role: string }[] }>(
      id,
      'c1.revoke',
      'directory',
    );
    expect(revoked?.state).toBe('done');
    expect(revoked?.data.grants.map((g) => [g.id, g.role])).toEqual([
      ['g-admin', 'admin'],
      ['g-read', 'reader'],
      ['g-legacy', 'g-legacy'],
    ]);
    expect((await ctx.effects.get(id, 'c1.disable', 'directory'))?.state).toBe('disabled');
    expect(await revokeTookEffect(atOnce(), record)).toBe(true);
    const entries = await audit(id, 'effect.revoke');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.details).toEqual({
      connector: 'directory',
      disabled: true,
      removed: ['g-admin', 'g-read', 'g-legacy'],
    });
    expect(await audit(id, 'effect.disable')).toHaveLength(0);

    expect((await revokeAccess(atOnce(), record))[0]!.status).toBe('skipped');
    expect(await audit(id, 'effect.revoke')).toHaveLength(1);
    expect((await ctx.audit.verify()).ok).toBe(true);
  });

  it('keeps what an earlier step-by-step attempt had taken down, and runs once when two overlap', async () => {
    const { id, record } = await seed();
    const earlier = [{ id: 'g-gone', system: 'cms', role: 'editor', privileged: false }];
    await ctx.effects.put(id, 'c1.revoke', 'directory', 'pending', { grants: earlier });
    const [a, b] = await Promise.all([revokeAccess(atOnce(), record), revokeAccess(atOnce(), record)]);
    expect([a[0]!.status, b[0]!.status].sort()).toEqual(['done', 'skipped']);
    const revoked = await ctx.effects.get<{ grants: { id: string }[] }>(id, 'c1.revoke', 'directory');
    expect(revoked?.data.grants.map((g) => g.id)).toEqual(['g-gone', 'g-admin', 'g-read']);
    expect(await audit(id, 'effect.revoke')).toHaveLength(1);
  });

  it('no user: not_found; a user gone after an earlier disable: done with what was kept', async () => {
    const none = { person: { id: 'nobody-dir' }, cycle: 1, planVersion: 1 } as unknown as PersonRecord;
    expect((await revokeAccess(atOnce(), none))[0]!.status).toBe('not_found');
    expect(await ctx.redis.exists(ctx.keys.directoryUser('nobody-dir'))).toBe(0);
    expect((await audit('nobody-dir', 'effect.revoke'))[0]!.details).toEqual({
      connector: 'directory',
      result: 'not_found',
    });

    const gone = { person: { id: 'gone-dir' }, cycle: 1, planVersion: 1 } as unknown as PersonRecord;
    await ctx.effects.transition(
      'gone-dir',
      'c1.disable',
      'directory',
      'disabled',
      {},
      {
        at: new Date().toISOString(),
        type: 'effect.disable',
        actor: 'lastday',
        personId: 'gone-dir',
      },
    );
    expect((await revokeAccess(atOnce(), gone))[0]!.status).toBe('done');
    expect(await ctx.redis.exists(ctx.keys.directoryUser('gone-dir'))).toBe(0);
  });

  it('reads again when the grants change between its read and its write', async () => {
    const { id, record } = await seed();
    let raced = false;
    // A grant added right after the first read: the script must refuse that write.
    const racing = new Proxy(ctx.redis, {
      get(target, prop) {
        if (prop !== 'multi') return Reflect.get(target, prop, target) as unknown;
        return () => {
          const tx = target.multi();
          const exec = tx.exec.bind(tx);
          tx.exec = (async () => {
            const result = await exec();
            if (!raced) {
              raced = true;
              await target.hset(ctx.keys.directoryGrants(id), 'g-late', 'late;cms');
            }
            return result;
          }) as typeof tx.exec;
          return tx;
        };
      },
    });
    const [outcome] = await revokeAccess(atOnce(racing), record);
    expect(raced).toBe(true);
    expect(outcome!.grants).toEqual(['g-admin', 'g-read', 'g-late']);
    expect(await ctx.redis.exists(ctx.keys.directoryGrants(id))).toBe(0);
    expect(await audit(id, 'effect.revoke')).toHaveLength(1);
  });

  it('starts from a read taken beforehand (a revoke job sends it with its lock), and reads again when it went stale', async () => {
    let multis = 0;
    const counting = new Proxy(ctx.redis, {
      get(target, prop) {
        if (prop === 'multi') multis++;
        return Reflect.get(target, prop, target) as unknown;
      },
    });
    const withRead = atOnce(counting);
    const [connector] = withRead.connectors;
    const readsOf = async (id: string) => new Map([['directory', await connector!.readForRevoke!(id)]]);

    // Fresh: the write goes out with no read of its own.
    const fresh = await seed();
    const freshReads = await readsOf(fresh.id);
    multis = 0;
    expect((await revokeAccess(withRead, fresh.record, freshReads))[0]).toMatchObject({
      status: 'done',
      grants: ['g-admin', 'g-read'],
    });
    expect(multis).toBe(0);

    // Stale: a grant added after the read; the script refuses, the step reads again.
    const stale = await seed();
    const staleReads = await readsOf(stale.id);
    await ctx.redis.hset(ctx.keys.directoryGrants(stale.id), 'g-late', 'late;cms');
    multis = 0;
    expect((await revokeAccess(withRead, stale.record, staleReads))[0]!.grants).toEqual([
      'g-admin',
      'g-read',
      'g-late',
    ]);
    expect(multis).toBe(1);
    expect(await ctx.redis.exists(ctx.keys.directoryGrants(stale.id))).toBe(0);

    // Done by another run since the read: nothing written twice, audited once.
    expect((await revokeAccess(withRead, fresh.record, freshReads))[0]!.status).toBe('skipped');
    expect(await audit(fresh.id, 'effect.revoke')).toHaveLength(1);
    // Another person's read is never used for this one.
    const other = await seed();
    multis = 0;
    expect((await revokeAccess(withRead, other.record, staleReads))[0]!.status).toBe('done');
    expect(multis).toBe(1);
    expect((await ctx.audit.verify()).ok).toBe(true);
  });
});

describe('verify', () => {
  it('disables first, removes what came back, alerts on drift once across retries', async () => {
    const { id, user, admins, record } = await seed();
    await revokeAccess(deps, record);
    // Behind lastday's back: the account re-enabled and put back in an admin group.
    scim.store.users.get(user.id)!.active = true;
    scim.store.groups.get(admins.id)!.members.push(user.id);
    const mark = scim.requests.length;
    scim.faults.rules = [{ method: 'PATCH', path: '/Groups', status: 503 }];
    await expect(verifyAccess(deps, record)).rejects.toBeInstanceOf(EffectFailure);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
    const sent = scim.requests.slice(mark);
    expect(sent.indexOf(`PATCH /Users/${user.id}`)).toBeGreaterThanOrEqual(0);
    expect(sent.indexOf(`PATCH /Users/${user.id}`)).toBeLessThan(sent.indexOf(`PATCH /Groups/${admins.id}`));
    expect(await audit(id, 'alert.drift')).toHaveLength(1);

    scim.faults.rules = [];
    const outcomes = await verifyAccess(deps, record);
    expect(outcomes.find((o) => o.connector === 'idp')?.status).toBe('drift');
    expect(scim.groupsOf(user.id)).toEqual([]);
    expect(await audit(id, 'alert.drift')).toHaveLength(1);
    const [verified] = (await audit(id, 'effect.verify')).filter((e) => e.details.connector === 'idp');
    expect(verified!.details).toMatchObject({ drift: true, active: true, grants: [admins.id] });
  });

  it('disables again when the read fails, and passes the failure on', async () => {
    const { user, record } = await seed();
    await revokeAccess(deps, record);
    scim.store.users.get(user.id)!.active = true;
    scim.userGroups = 'omit';
    scim.faults.rules = [{ method: 'GET', path: '/Groups', status: 503 }];
    await expect(verifyAccess(deps, record)).rejects.toBeInstanceOf(EffectFailure);
    expect(scim.store.users.get(user.id)?.active).toBe(false);
  });

  it("sends the webhook's re-disable with its own id, so a deduping receiver acts on it", async () => {
    const { id, record } = await seed();
    await revokeAccess(deps, record);
    receiver.access.get(id)!.active = true;
    receiver.access.get(id)!.grants.push({ id: 'billing-admin', role: 'admin', privileged: true });
    await verifyAccess(deps, record);
    expect(receiver.access.get(id)).toMatchObject({ active: false, grants: [] });
    const disables = receiver.calls.filter((c) => c.personId === id && c.effect === 'disable');
    expect(disables.map((c) => c.applied)).toEqual([true, true]);
    expect(new Set(disables.map((c) => c.id)).size).toBe(2);
  });
});

describe('the directory store', () => {
  it('disables and enables an existing user only, and reads an unparseable entry apart', async () => {
    expect(await ctx.directory.disable('ghost', new Date().toISOString())).toBe(false);
    expect(await ctx.directory.enable('ghost', new Date().toISOString())).toBe(false);
    expect(await ctx.redis.exists(ctx.keys.directoryUser('ghost'))).toBe(0);

    const { id } = await seed();
    await ctx.redis.hset(ctx.keys.directoryGrants(id), 'g-odd', '{"id":"other"}');
    expect(await ctx.directory.disable(id, new Date().toISOString())).toBe(true);
    const access = await ctx.directory.access(id);
    expect(access).toMatchObject({ active: false, unreadable: ['g-odd'] });
    expect(access?.grants.map((g) => g.id)).toEqual(['g-admin', 'g-read']);
    expect(await ctx.directory.enable(id, new Date().toISOString())).toBe(true);
    expect((await ctx.directory.access(id))?.active).toBe(true);
  });
});
