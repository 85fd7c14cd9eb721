/**
 * Acting at the instant (src/domain/armLead.ts): a milestone job is delivered
 * ARM_LEAD_MS before its milestone's `dueAt`, takes the person lock and reads
 * ahead, then waits for the instant and acts at it, never before. A job whose
 * wait cannot reach the instant (a clock that stands still, a reference clock
 * behind) does not act early either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { runMilestoneJob } from '../../jobs/milestone.ts';
import type { Context } from '../../src/app/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { ARM_LEAD_MS } from '../../src/domain/armLead.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { eventually, testContext, testRuntime, testSettings } from '../helpers/lastday.ts';

const GRANTS = [{ id: 'g-admin', system: 'cms', role: 'admin', privileged: true }];
const DAY_MS = 86_400_000;

async function disabledAtMs(ctx: Context, personId: string): Promise<number | undefined> {
  const at = await ctx.redis.hget(ctx.shardOf(personId).keys.directoryUser(personId), 'disabledAt');
  return at === null ? undefined : Date.parse(at);
}

describe('a revoke due in a few seconds, on the real clock', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await testRuntime(testSettings());
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('is delivered the lead ahead, waits with the lock held, and disables at its instant, never before', async () => {
    const ctx = rt.ctx;
    const personId = 'arm/soon';
    await ctx.directory.put(personId, { active: true, grants: GRANTS }, new Date().toISOString());
    const end = endingSoon(4, 'America/New_York');
    await applyEvent(
      ctx,
      hrEvent({ personId, lastDay: end.lastDay, endTime: end.endTime, timezone: end.timezone }) as HrEvent,
    );
    const planned = (await ctx.people.get(personId))!;
    const dueMs = Date.parse(planned.milestones.find((m) => m.name === 'revoke')!.dueAt);
    expect(dueMs).toBe(end.endsAt.toMillis());

    // The earlier milestones were past due and ran at once; they handed over to
    // revoke's job, whose BullMQ delay ends the lead before the instant.
    const jobId = milestoneJobId(personId, planned.planVersion, 'revoke');
    const job = await eventually(async () => ctx.queues.milestones.getJob(jobId));
    expect(Math.abs(job.timestamp + job.opts.delay! - (dueMs - ARM_LEAD_MS))).toBeLessThan(250);

    // While it waits (once started, before the instant), the person lock is taken.
    const started = await eventually(async () => {
      const j = await ctx.queues.milestones.getJob(jobId);
      return j?.processedOn !== undefined && Date.now() < dueMs ? j : undefined;
    }, 6_000).catch(() => undefined);
    if (started && Date.now() < dueMs - 100) {
      expect(await ctx.redis.exists(ctx.shardOf(personId).keys.personLock(personId))).toBe(1);
      expect((await ctx.directory.get(personId))?.active).toBe(true);
    }

    await eventually(async () => (await ctx.directory.get(personId))?.active === false, 10_000);
    expect(await disabledAtMs(ctx, personId)).toBeGreaterThanOrEqual(dueMs);
    const record = (await ctx.people.get(personId))!;
    const revoke = record.milestones.find((m) => m.name === 'revoke')!;
    expect(revoke.state).toBe('done');
    expect(Date.parse(revoke.doneAt!)).toBeGreaterThanOrEqual(dueMs);
    const types = (await ctx.audit.list({ personId })).map((e) => e.type);
    expect(types).not.toContain('milestone.early_run');
    expect(types.filter((t) => t === 'effect.revoke')).toHaveLength(1);
  });
});

describe('a job that starts within the lead and cannot reach its instant', () => {
  it('with a clock that stands still: waits once, then goes back as an early run, nothing done', async () => {
    const personId = 'arm/frozen';
    let at = Date.now();
    const ctx = await testContext(testSettings(), () => new Date(at));
    try {
      const end = endingSoon(10 * 60, 'Europe/Berlin', new Date(at));
      await applyEvent(
        ctx,
        hrEvent({ personId, lastDay: end.lastDay, endTime: end.endTime, timezone: end.timezone }) as HrEvent,
      );
      await ctx.directory.put(personId, { active: true, grants: GRANTS }, new Date().toISOString());
      const record = (await ctx.people.get(personId))!;
      const dueMs = end.endsAt.toMillis();
      at = dueMs - 300;
      const waitedFrom = Date.now();
      const result = await runMilestoneJob(ctx, {
        personId,
        version: record.planVersion,
        milestone: 'revoke',
      });
      expect(result).toMatchObject({ outcome: 'early', earlyMs: 300 });
      // It did wait for the instant (the real clock moved on; this one did not).
      expect(Date.now() - waitedFrom).toBeGreaterThanOrEqual(290);
      expect((await ctx.directory.get(personId))?.active).toBe(true);
      expect((await ctx.people.get(personId))!.milestones.find((m) => m.name === 'revoke')!.state).toBe(
        'scheduled',
      );
    } finally {
      await ctx.close();
    }
  });

  it('with a reference clock behind the worker’s: acts only when the reference allows it', async () => {
    const personId = 'arm/reference';
    const ctx = await testContext(testSettings(), () => new Date());
    try {
      await ctx.directory.put(personId, { active: true, grants: GRANTS }, new Date().toISOString());
      const end = endingSoon((3 * DAY_MS) / 1000, 'Europe/Berlin');
      await applyEvent(
        ctx,
        hrEvent({ personId, lastDay: end.lastDay, endTime: end.endTime, timezone: end.timezone }) as HrEvent,
      );
      const planned = (await ctx.people.get(personId))!;
      // The plan as it stands when its revoke is 200 ms away by the worker's clock.
      const dueMs = Date.now() + 200;
      const record = {
        ...planned,
        milestones: planned.milestones.map((m) =>
          m.name === 'revoke'
            ? { ...m, dueAt: new Date(dueMs).toISOString() }
            : m.name === 'verify'
              ? m
              : { ...m, state: 'done' as const, doneAt: new Date().toISOString() },
        ),
      };
      await ctx.people.save(record);
      const saved = (await ctx.people.get(personId))!;
      // Redis TIME 1.5 s behind: the decision clock is the reference plus the
      // 1 s tolerance, 500 ms behind the worker's; the revoke waits ~700 ms.
      const referenceNowMs = Date.now() - 1_500;
      const result = await runMilestoneJob(
        ctx,
        { personId, version: saved.planVersion, milestone: 'revoke' },
        { record: saved, referenceNowMs },
      );
      expect(result).toMatchObject({ outcome: 'done', ran: ['revoke'] });
      // By the worker's clock the write came at least 500 ms after the instant:
      // only then did the reference (1.5 s behind, plus the 1 s tolerance) reach it.
      expect(await disabledAtMs(ctx, personId)).toBeGreaterThanOrEqual(dueMs + 499);
    } finally {
      await ctx.close();
    }
  });
});
