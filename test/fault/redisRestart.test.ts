/**
 * Redis restarted: lastday (API + workers) on its own AOF Redis (`appendfsync
 * everysec`), HR events arriving over signed HTTP, and redis-server killed with
 * SIGKILL and started again on the same port and directory under that load.
 *
 * - Every event the API acknowledged (202, or 200 duplicate) is applied in the
 *   end; every other one got an error answer (reported failed to its sender),
 *   and a sender's retry — same webhook-id, same body, as Standard Webhooks
 *   senders do — is then acknowledged and applied too.
 * - The workers resume: an event submitted once Redis is back is applied within
 *   10 s of Redis returning.
 * - Milestone jobs lost with Redis (records on disk, their jobs not) are all
 *   scheduled again by one `reconcile` pass (jobs/ops/reconcile.ts, what the cron
 *   and `lastday run reconcile` run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/app/embeddedRedis.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { reconcile } from '../../jobs/ops/reconcile.ts';
import { milestonesWithJobs } from '../../src/domain/milestoneJobs.ts';
import { horizonMs } from '../../src/queues/milestones.ts';
import { hrEventJobId, milestoneJobId } from '../../src/queues/names.ts';
import { hrEvent } from '../helpers/events.ts';
import { eventually, signedHeaders, testRuntime, testSettings } from '../helpers/lastday.ts';
import { startTestRedis, type TestRedis } from '../helpers/redisServer.ts';

let redis: TestRedis;
let rt: Runtime;
let dir: string;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lastday-aof-'));
  port = await freePort();
  redis = await startTestRedis({ appendonly: true, dir, port });
  // A person lock whose holder lost Redis mid-job cannot be released and lives
  // out its TTL (2 × lockDurationMs): that person's events wait for it. Short
  // here so the test is bounded; 60 s with the defaults.
  // A horizon of a year: the people planned for 2027-03 have their first milestone's job.
  rt = await testRuntime(testSettings({ workers: { lockDurationMs: 3_000, horizonHours: 24 * 366 } }), {
    redisUrl: redis.url,
  });
});
afterAll(async () => {
  await rt?.stop({ timeoutMs: 5_000 });
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Delivery {
  eventId: string;
  personId: string;
  webhookId: string;
  body: string;
  status: number | 'error';
}

async function deliver(d: Omit<Delivery, 'status'>): Promise<Delivery> {
  try {
    const res = await fetch(`${rt.url}/v1/hr-events`, {
      method: 'POST',
      headers: signedHeaders(d.body, { id: d.webhookId }),
      body: d.body,
      signal: AbortSignal.timeout(8_000),
    });
    await res.text();
    return { ...d, status: res.status };
  } catch {
    return { ...d, status: 'error' };
  }
}

function newDelivery(n: number): Omit<Delivery, 'status'> {
  const personId = `aof/${n}:p`;
  const event = hrEvent({ personId, lastDay: '2027-03-05' });
  return {
    eventId: String(event.eventId),
    personId,
    webhookId: `msg_aof_${n}_${process.pid}`,
    body: JSON.stringify(event),
  };
}

const acknowledged = (d: Delivery) => d.status === 202 || d.status === 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis killed and restarted under load', () => {
  it('keeps every acknowledged event, reports the rest as failed, and resumes the workers', async () => {
    const deliveries: Delivery[] = [];
    let n = 0;
    let sending = true;
    const senders = Array.from({ length: 4 }, async () => {
      while (sending) {
        deliveries.push(await deliver(newDelivery(n++)));
        await sleep(5);
      }
    });

    await sleep(1_500);
    await redis.stop(); // SIGKILL: no shutdown, no final AOF flush
    await sleep(1_500);
    redis = await startTestRedis({ appendonly: true, dir, port });
    const back = Date.now();

    // Workers resume: a fresh event is applied within 10 s of Redis returning.
    const probe = newDelivery(1_000_000);
    await eventually(async () => acknowledged(await deliver(probe)), 10_000);
    await eventually(
      async () => (await rt.ctx.people.get(probe.personId)) !== undefined,
      Math.max(1, back + 10_000 - Date.now()),
    );

    await sleep(1_000);
    sending = false;
    await Promise.all(senders);
    const failed = deliveries.filter((d) => !acknowledged(d));
    expect(deliveries.filter(acknowledged).length).toBeGreaterThan(10);

    // Senders retry what failed, with the same webhook-id and body.
    const retried = await Promise.all(
      failed.map((d) =>
        eventually(async () => {
          const r = await deliver(d);
          return acknowledged(r) ? r : undefined;
        }, 10_000),
      ),
    );

    const all = [...deliveries.filter(acknowledged), ...retried];
    const missing = await eventually(async () => {
      const records = await rt.ctx.people.getMany(all.map((d) => d.personId));
      const applied = new Set(records.map((r) => r.lastEvent.eventId));
      const lost = all.filter((d) => !applied.has(d.eventId)).map((d) => d.eventId);
      return lost.length === 0 ? lost : undefined;
    }, 30_000).catch(async () => {
      const records = await rt.ctx.people.getMany(all.map((d) => d.personId));
      const applied = new Set(records.map((r) => r.lastEvent.eventId));
      const lost = all.filter((d) => !applied.has(d.eventId));
      const states = await Promise.all(
        lost.map(async (d) => {
          const job = await rt.ctx.queues.hrEvents.getJob(hrEventJobId(d.eventId));
          return `${await job?.getState()} seen=${await rt.ctx.redis.exists(rt.ctx.keys.eventSeen(d.eventId))} attempts=${job?.attemptsMade} ${job?.failedReason}`;
        }),
      );
      return lost.map(
        (d, i) =>
          `${d.eventId} (first answer ${deliveries.find((x) => x.eventId === d.eventId)?.status}; job ${states[i]})`,
      );
    });
    expect(missing).toEqual([]);
  }, 80_000);

  it('reconcile restores any milestone whose job was lost', async () => {
    // People planned and acknowledged, their five milestone jobs in place.
    const planned = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const d = newDelivery(2_000_000 + i);
        await eventually(async () => acknowledged(await deliver(d)), 10_000);
        return d;
      }),
    );
    await eventually(async () => (await missingJobs(planned.map((d) => d.personId))).length === 0, 20_000);

    // A third of them lose their milestone job (what a lost AOF tail or a crash
    // between the person write and the job writes leaves behind), then Redis is
    // killed and started again: the loss is on disk (fsync everysec), the records are too.
    const victims = planned.filter((_, i) => i % 3 === 0).map((d) => d.personId);
    const queue = rt.ctx.queues.milestones;
    for (const record of await rt.ctx.people.getMany(victims)) {
      for (const m of record.milestones) {
        const jobId = milestoneJobId(record.person.id, record.planVersion, m.name);
        await rt.ctx.redis.zrem(queue.keys.delayed!, jobId);
        await rt.ctx.redis.del(queue.toKey(jobId));
      }
    }
    expect((await missingJobs(victims)).length).toBe(victims.length);
    await sleep(1_500);
    await redis.stop();
    redis = await startTestRedis({ appendonly: true, dir, port });
    await eventually(async () => (await rt.ctx.redis.ping().catch(() => '')) === 'PONG', 10_000);
    expect((await missingJobs(victims)).length).toBe(victims.length);

    // One reconcile pass (what the cron and `lastday run reconcile` run).
    const result = await reconcile(rt.ctx);
    expect(result.errors).toBe(0);
    expect(result.rescheduled).toBeGreaterThanOrEqual(victims.length);
    // Every person in this run has the job its plan wants again.
    const everyone: string[] = [];
    for await (const ids of rt.ctx.people.scanIds()) everyone.push(...ids);
    expect(everyone.length).toBeGreaterThanOrEqual(planned.length);
    expect(await missingJobs(everyone)).toEqual([]);
  }, 60_000);
});

/**
 * `personId/milestone` for every job these people's plans want (the first open
 * milestone's, src/domain/milestoneJobs.ts) that is not in the milestones queue
 * (`personId/record` for a person not applied yet).
 */
async function missingJobs(personIds: readonly string[]): Promise<string[]> {
  const queue = rt.ctx.queues.milestones;
  const records = await rt.ctx.people.getMany(personIds);
  const found = new Set(records.map((r) => r.person.id));
  const missing = personIds.filter((id) => !found.has(id)).map((id) => `${id}/record`);
  for (const record of records) {
    for (const m of milestonesWithJobs(record, rt.ctx.now().getTime(), horizonMs(rt.ctx.settings))) {
      const jobId = milestoneJobId(record.person.id, record.planVersion, m.name);
      if ((await rt.ctx.redis.exists(queue.toKey(jobId))) === 0)
        missing.push(`${record.person.id}/${m.name}`);
    }
  }
  return missing;
}
