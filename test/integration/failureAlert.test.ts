/**
 * A milestone marked `failed` is alerted on once, and a crash cannot lose that
 * alert: its audit entry is written in the save that marks the milestone
 * failed, and its announcement (here the signed alert webhook, a real HTTP
 * receiver) is recorded as `alertedAt` once made. A crash is played by an
 * announcement, or the save after it, that throws once: the process dying there.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { runMilestoneJob } from '../../jobs/milestone.ts';
import { type Context, createContext } from '../../src/app/context.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { hrEvent } from '../helpers/events.ts';
import { testLogger, testSettings } from '../helpers/lastday.ts';

const SECRET = `whsec_${Buffer.from('alert-secret-for-tests-0123456789').toString('base64')}`;
const posts: string[] = [];
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    posts.push(String(req.headers['webhook-id']));
    res.writeHead(204).end();
  });
});
let ctx: Context;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  ctx = await createContext({
    // Past its deadline at once: every failed attempt is one that marks `failed`.
    settings: testSettings({
      alerts: { webhookUrl: url, secretEnv: 'ALERT_SECRET' },
      policy: { failAfterMinutes: 0 },
    }),
    redisUrl: inject('redisUrl'),
    log: testLogger(),
    env: { ALERT_SECRET: SECRET },
  });
});
afterAll(async () => {
  await ctx?.close();
  await new Promise((r) => server.close(r));
});

/** A terminated person (reduce, freeze and revoke due now); returns the plan version. */
async function terminate(personId: string): Promise<number> {
  const effectiveAt = new Date(Date.now() - 60_000).toISOString();
  const result = await applyEvent(
    ctx,
    hrEvent({ personId, type: 'contract.terminated', effectiveAt }) as HrEvent,
  );
  if (result.outcome !== 'applied') throw new Error(`not applied: ${result.outcome}`);
  return result.planVersion;
}

const unreachableGuard = { freeze: () => Promise.reject(new Error('gate unreachable')) };

async function freezeOf(personId: string) {
  const record = (await ctx.people.get(personId)) as PersonRecord;
  return record.milestones.find((m) => m.name === 'freeze')!;
}

async function alertEntries(personId: string) {
  return (await ctx.audit.list({ personId })).filter((e) => e.type === 'alert.milestone_failed');
}

/** ctx.alerts with `announce` dying once before it does anything. */
function announceDiesOnce(): Context['alerts'] {
  let died = false;
  return Object.assign(Object.create(ctx.alerts) as Context['alerts'], {
    announce: (...args: Parameters<Context['alerts']['announce']>) => {
      if (!died) {
        died = true;
        return Promise.reject(new Error('process died'));
      }
      return ctx.alerts.announce(...args);
    },
  });
}

describe('a failed milestone is alerted on once, and a crash cannot lose the alert', () => {
  it('a crash between the failed save and the announcement: the next attempt announces it', async () => {
    const personId = 'alert/crash-before-announce';
    const version = await terminate(personId);
    const job = { personId, version, milestone: 'freeze' } as const;
    posts.length = 0;

    // The attempt marks freeze failed, with its alert's audit entry, then dies.
    const dying = { ...ctx, guard: unreachableGuard, alerts: announceDiesOnce() };
    await expect(runMilestoneJob(dying, job)).rejects.toThrow('process died');
    const marked = await freezeOf(personId);
    expect(marked.state).toBe('failed');
    expect(marked.failedAt).toBeDefined();
    expect(marked.alertedAt).toBeUndefined();
    expect(await alertEntries(personId)).toHaveLength(1);
    expect(posts).toEqual([]);

    // The retry (still failing) announces it, and records that it did.
    const failing = { ...ctx, guard: unreachableGuard };
    await expect(runMilestoneJob(failing, job)).rejects.toThrow('gate unreachable');
    expect(posts).toHaveLength(1);
    expect((await freezeOf(personId)).alertedAt).toBeDefined();
    expect(await alertEntries(personId)).toHaveLength(1);

    // Further failures: nothing more.
    await expect(runMilestoneJob(failing, job)).rejects.toThrow('gate unreachable');
    expect(posts).toHaveLength(1);
    expect(await alertEntries(personId)).toHaveLength(1);

    // Done at last: the failure marks are cleared.
    expect(await runMilestoneJob(ctx, job)).toMatchObject({ outcome: 'done' });
    const done = await freezeOf(personId);
    expect(done).toMatchObject({ state: 'done' });
    expect(done.alertedAt).toBeUndefined();
  });

  it('a crash after the announcement, before it is recorded: announced again with the same webhook-id', async () => {
    const personId = 'alert/crash-after-announce';
    const version = await terminate(personId);
    const job = { personId, version, milestone: 'freeze' } as const;
    posts.length = 0;

    // The save that records `alertedAt` dies once (the first failed save goes through).
    let saves = 0;
    const people = Object.assign(Object.create(ctx.people) as Context['people'], {
      save: (...args: Parameters<Context['people']['save']>) => {
        const [record] = args;
        const freeze = record.milestones.find((m) => m.name === 'freeze');
        if (freeze?.alertedAt && saves++ === 0) return Promise.reject(new Error('process died'));
        return ctx.people.save(...args);
      },
    });
    await expect(runMilestoneJob({ ...ctx, people, guard: unreachableGuard }, job)).rejects.toThrow(
      'process died',
    );
    expect(posts).toHaveLength(1);
    expect((await freezeOf(personId)).alertedAt).toBeUndefined();

    await expect(runMilestoneJob({ ...ctx, guard: unreachableGuard }, job)).rejects.toThrow(
      'gate unreachable',
    );
    expect(posts).toHaveLength(2);
    expect(posts[1]).toBe(posts[0]);
    expect(posts[0]).toMatch(/^msg_[\w-]{32}$/);
    expect((await freezeOf(personId)).alertedAt).toBeDefined();
    expect(await alertEntries(personId)).toHaveLength(1);
  });
});
