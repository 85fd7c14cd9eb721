/**
 * Contract v1.1 section 3: a milestone never takes effect before its `dueAt`,
 * whatever happens to its job. Issue #9 item 2: promoting a delayed `revoke` in
 * bull-board disabled the person 18 days early. Here a real runtime plans a
 * person whose revoke is days away; a plain BullMQ client (what bull-board
 * runs) promotes the job and adds a forged one with the same data. Both go back
 * to the instant and are audited; at the instant, revoke runs once.
 */
import { Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { createMilestoneProcessor } from '../../jobs/milestone.ts';
import type { Context } from '../../src/app/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { EvidenceReport } from '../../src/domain/evidence.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { CLOCK_TOLERANCE_MS } from '../../src/domain/duePrefix.ts';
import { type MilestoneJobData, milestoneJobId, QUEUES } from '../../src/queues/names.ts';
import { submitHrEvent } from '../../src/queues/intake.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { bearer, eventually, TOKENS, testContext, testRuntime, testSettings } from '../helpers/lastday.ts';

const DAY_MS = 86_400_000;
const GRANTS = [
  { id: 'g-admin', system: 'cms', role: 'admin', privileged: true },
  { id: 'g-read', system: 'cms', role: 'reader', privileged: false },
];

/** The delayed set's score is (timestamp << 12) + a counter: the instant BullMQ will run the job. */
async function delayedUntil(
  outside: ReturnType<typeof outsideClient>,
  jobId: string,
): Promise<number | undefined> {
  const score = await outside.redis.zscore(outside.queue.toKey('delayed'), jobId);
  return score === null ? undefined : Math.floor(Number(score) / 0x1000);
}

/** A client of the milestones queue on its own connection, as bull-board or any BullMQ user has. */
function outsideClient(prefix: string) {
  const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const queue = new Queue<MilestoneJobData>(QUEUES.milestones, { connection, prefix });
  return {
    queue,
    redis: connection,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

async function evidenceOf(rt: Runtime, personId: string): Promise<EvidenceReport> {
  const res = await fetch(`${rt.url}/v1/people/${encodeURIComponent(personId)}/evidence`, {
    headers: bearer(TOKENS.viewer),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as EvidenceReport;
}

describe('a milestone job promoted or forged before its instant', () => {
  // The runtime's clock: real time, moved to the revoke instant at the end.
  let aheadMs = 0;
  let rt: Runtime;
  let outside: ReturnType<typeof outsideClient>;

  beforeAll(async () => {
    rt = await testRuntime(testSettings(), { now: () => new Date(Date.now() + aheadMs) });
    outside = outsideClient(rt.ctx.prefix);
  });
  afterAll(async () => {
    await outside?.close();
    await rt?.stop();
  });

  it('goes back to its instant, is audited, and takes effect only at the instant, once', async () => {
    const ctx = rt.ctx;
    const personId = 'early/promoted:1';
    await ctx.directory.put(personId, { active: true, grants: GRANTS }, new Date().toISOString());
    const end = endingSoon((6 * DAY_MS) / 1000, 'Europe/Berlin');
    await submitHrEvent(
      { events: ctx.events, queue: ctx.queues.hrEvents, now: ctx.now },
      hrEvent({ personId, lastDay: end.lastDay, endTime: end.endTime, timezone: end.timezone }),
      'cli',
    );
    const planned = await eventually(async () => ctx.people.get(personId));
    const revoke = planned.milestones.find((m) => m.name === 'revoke')!;
    const dueMs = Date.parse(revoke.dueAt);
    expect(dueMs - Date.now()).toBeGreaterThan(5 * DAY_MS);
    const jobId = milestoneJobId(personId, planned.planVersion, 'revoke');
    // Days ahead, beyond the horizon: no job yet. One with the plan's own id
    // (as the chain of jobs would add it) and its data, delayed to the instant…
    await outside.queue.add(
      'revoke',
      { personId, version: planned.planVersion, milestone: 'revoke' },
      { jobId, delay: dueMs - Date.now() },
    );
    // …then what bull-board's "Promote" does, and a job someone added with the same data.
    await (await Job.fromId(outside.queue, jobId))!.promote();
    const forged = await outside.queue.add('revoke', {
      personId,
      version: planned.planVersion,
      milestone: 'revoke',
    });

    // Wait until both runs were put back, or something took effect.
    const earlyRuns = async () =>
      (await ctx.audit.list({ personId })).filter((e) => e.type === 'milestone.early_run');
    await eventually(
      async () => (await earlyRuns()).length >= 2 || (await ctx.directory.get(personId))?.active === false,
    );
    // Nothing took effect: active with every grant, revoke still scheduled.
    expect(await ctx.directory.get(personId)).toMatchObject({ active: true, grants: GRANTS });
    const early = await earlyRuns();
    expect(early.map((e) => e.details.jobId).sort()).toEqual([forged.id, jobId].sort());
    for (const e of early) {
      expect(e.details).toMatchObject({
        milestone: 'revoke',
        dueAt: revoke.dueAt,
        planVersion: planned.planVersion,
      });
      expect(Number(e.details.earlyMs)).toBeGreaterThan(5 * DAY_MS);
      expect(Number(e.details.attempt)).toBeGreaterThanOrEqual(1);
    }

    const record = (await ctx.people.get(personId))!;
    expect(record.milestones.find((m) => m.name === 'revoke')!.state).toBe('scheduled');
    expect((await ctx.audit.list({ personId })).map((e) => e.type)).not.toContain('effect.revoke');
    // Both jobs wait in `delayed` for the revoke instant again.
    for (const id of [jobId, forged.id!]) {
      expect(await outside.queue.getJobState(id)).toBe('delayed');
      const until = (await delayedUntil(outside, id))!;
      expect(until).toBeGreaterThanOrEqual(dueMs);
      expect(until).toBeLessThan(dueMs + 60_000);
    }
    // The API shows it scheduled too.
    const view = await fetch(`${rt.url}/v1/people/${encodeURIComponent(personId)}`, {
      headers: bearer(TOKENS.viewer),
    }).then((r) => r.json());
    expect(view).toMatchObject({ status: expect.not.stringMatching(/revoked/) });

    // The instant comes (the injected clock); the jobs run — promoted once more
    // here, as BullMQ's timer would days from now.
    aheadMs = dueMs - Date.now();
    await (await Job.fromId(outside.queue, jobId))!.promote();
    await (await Job.fromId(outside.queue, forged.id!))!.promote();
    await eventually(async () => (await ctx.directory.get(personId))?.active === false);
    await eventually(async () => {
      const states = await Promise.all([jobId, forged.id!].map((id) => outside.queue.getJobState(id)));
      return states.every((s) => s === 'completed');
    });
    const entries = await ctx.audit.list({ personId });
    const count = (type: string, milestone?: string) =>
      entries.filter((e) => e.type === type && (milestone === undefined || e.details.milestone === milestone))
        .length;
    expect(count('milestone.done', 'revoke')).toBe(1);
    expect(count('effect.revoke')).toBe(1);
    expect(count('milestone.early_run')).toBe(2);
    const done = (await ctx.people.get(personId))!.milestones.find((m) => m.name === 'revoke')!;
    expect(done.state).toBe('done');
    expect(Date.parse(done.doneAt!)).toBeGreaterThanOrEqual(dueMs);

    // The evidence report shows the refused early runs, and revoke on time.
    const evidence = await evidenceOf(rt, personId);
    expect(evidence.milestones.find((m) => m.name === 'revoke')).toMatchObject({
      earlyRunsPutBack: 2,
      lagSeconds: expect.any(Number),
    });
    expect(evidence.milestones.find((m) => m.name === 'revoke')).not.toHaveProperty('early');
  });

  it('evidence never calls an early effect on time (a revoke done early before this guard existed)', async () => {
    const ctx = rt.ctx;
    const personId = 'early/legacy';
    const end = endingSoon((20 * DAY_MS) / 1000, 'Europe/Berlin');
    await applyEvent(
      ctx,
      hrEvent({ personId, lastDay: end.lastDay, endTime: end.endTime, timezone: end.timezone }) as HrEvent,
    );
    // What the unguarded processor wrote when revoke's job was promoted 18 days early.
    const record = (await ctx.people.get(personId))!;
    const doneAt = new Date(Date.parse(record.endsAt!) - 18 * DAY_MS).toISOString();
    await ctx.people.save({
      ...record,
      milestones: record.milestones.map((m) => (m.name === 'revoke' ? { ...m, state: 'done', doneAt } : m)),
    });
    const evidence = await evidenceOf(rt, personId);
    const revoke = evidence.milestones.find((m) => m.name === 'revoke');
    expect(revoke).toMatchObject({ early: true, lagSeconds: -18 * 86_400 });
    const controls = Object.fromEntries(evidence.controls.map((c) => [c.control, c]));
    for (const control of ['FedRAMP PS-4', 'PCI DSS 8.2.5']) {
      expect(controls[control]).toMatchObject({ result: 'fail', detail: expect.stringContaining('EARLY') });
      expect(controls[control]?.detail).not.toContain('0 s after');
    }
    expect(controls['SOC 2 CC6.2']?.result).toBe('fail');
  });
});

describe('a worker whose clock runs ahead', () => {
  let ctx: Context;
  let worker: Worker | undefined;
  let workerRedis: Redis | undefined;
  let outside: ReturnType<typeof outsideClient>;

  beforeAll(async () => {
    // The system clock (no clock injected): Redis TIME is asked as a second opinion.
    ctx = await testContext(testSettings());
    outside = outsideClient(ctx.prefix);
  });
  afterAll(async () => {
    await worker?.close();
    workerRedis?.disconnect();
    await outside?.close();
    await ctx?.close();
  });

  it('is overruled by Redis TIME: the job goes back instead of revoking days early', async () => {
    expect(ctx.referenceNowMs).toBeDefined();
    const personId = 'early/skewed';
    await ctx.directory.put(personId, { active: true, grants: GRANTS }, new Date().toISOString());
    const end = endingSoon((3 * DAY_MS) / 1000, 'Europe/Berlin');
    await applyEvent(
      ctx,
      hrEvent({ personId, lastDay: end.lastDay, endTime: end.endTime, timezone: end.timezone }) as HrEvent,
    );
    const record = (await ctx.people.get(personId))!;
    const revoke = record.milestones.find((m) => m.name === 'revoke')!;
    const jobId = milestoneJobId(personId, record.planVersion, 'revoke');
    // Beyond the horizon there is no job yet: one with the plan's own id, delayed to the instant.
    await outside.queue.add(
      'revoke',
      { personId, version: record.planVersion, milestone: 'revoke' },
      { jobId, delay: Date.parse(revoke.dueAt) - Date.now() },
    );

    // This worker's clock is ten days fast; by its own clock the revoke is long due.
    const skewed: Context = { ...ctx, now: () => new Date(Date.now() + 10 * DAY_MS) };
    workerRedis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    worker = new Worker(QUEUES.milestones, createMilestoneProcessor(skewed), {
      connection: workerRedis,
      prefix: ctx.prefix,
    });
    await worker.waitUntilReady();
    await (await Job.fromId(outside.queue, jobId))!.promote();

    const earlyRun = async () =>
      (await ctx.audit.list({ personId })).find(
        (e) => e.type === 'milestone.early_run' && e.details.jobId === jobId,
      );
    await eventually(async () => (await earlyRun()) ?? (await ctx.directory.get(personId))?.active === false);
    expect(await ctx.directory.get(personId)).toMatchObject({ active: true, grants: GRANTS });
    const entry = (await earlyRun())!;
    expect(entry.details).toMatchObject({ milestone: 'revoke', dueAt: revoke.dueAt });
    expect(Date.parse(String(entry.details.workerNow))).toBeGreaterThan(Date.parse(revoke.dueAt));
    expect(Date.parse(String(entry.details.redisNow))).toBeLessThan(Date.parse(revoke.dueAt));
    expect(Number(entry.details.earlyMs)).toBeGreaterThan(2 * DAY_MS - CLOCK_TOLERANCE_MS);
    expect(await outside.queue.getJobState(jobId)).toBe('delayed');
    expect((await ctx.people.get(personId))!.milestones.find((m) => m.name === 'revoke')!.state).toBe(
      'scheduled',
    );
    // Back at the instant by Redis's clock, not the fast worker's.
    const until = (await delayedUntil(outside, jobId))!;
    expect(until).toBeGreaterThanOrEqual(Date.parse(revoke.dueAt) - CLOCK_TOLERANCE_MS);
  });
});
