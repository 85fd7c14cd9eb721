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
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/app/embeddedRedis.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { hrEventJobId } from '../../src/queues/names.ts';
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
  rt = await testRuntime(testSettings({ workers: { lockDurationMs: 3_000 } }), { redisUrl: redis.url });
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

  // TODO(ops): once reconcile is in the tree, kill Redis between an event being
  // applied and its milestone jobs being written (or lose the last second of AOF),
  // run one reconcile, and check every open milestone has its job again.
  it.todo('reconcile restores any milestone whose job was lost (needs the ops reconcile feature)');
});
