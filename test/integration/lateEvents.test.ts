/**
 * Late HR events measure HR, not lastday (issue #9 items 10d and 10f). A
 * milestone planned after its instant becomes actionable when it is planned:
 * it is overdue only when lastday has not done it `overdueAfterMinutes` after
 * that, and its lateness is observed from there. How late HR was goes to its
 * own histogram. Real runtimes on real Redis, events through intake, /metrics
 * scraped over HTTP; the overdue check is the cron's own function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOverdue } from '../../jobs/ops/overdue.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { submitHrEvent } from '../../src/queues/intake.ts';
import { hrEvent } from '../helpers/events.ts';
import { eventually, testRuntime, testSettings } from '../helpers/lastday.ts';

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function submit(rt: Runtime, events: Record<string, unknown>[]): Promise<void> {
  const ctx = rt.ctx;
  for (const event of events) {
    const result = await submitHrEvent(
      { events: ctx.events, queue: ctx.queues.hrEvents, now: ctx.now },
      event,
      'cli',
    );
    expect(result.status).toBe('accepted');
  }
}

/** The samples of one metric from /metrics, keyed by their label set. */
async function scrape(rt: Runtime, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${rt.url}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) samples.set(m[2] ?? '', Number(m[3]));
  }
  return samples;
}

const bucket = (samples: Map<string, number>, le: string, milestone: string) =>
  samples.get(`{le="${le}",milestone="${milestone}"}`) ?? 0;

describe('a burst of late HR events', () => {
  // The runtime's clock: real time, moved ahead to let lastday's allowance pass.
  let aheadMs = 0;
  let rt: Runtime;
  const ids = Array.from({ length: 12 }, (_, i) => `late/burst:${i}`);

  beforeAll(async () => {
    // API and workers, no cron triggers: the overdue check runs when the test says.
    rt = await testRuntime(testSettings(), {
      roles: ['api', 'worker'],
      now: () => new Date(Date.now() + aheadMs),
    });
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('raises no overdue alarm while the milestones wait their turn, and does once lastday is late', async () => {
    const ctx = rt.ctx;
    const overdueAfterMinutes = ctx.settings.config.crons.overdue.overdueAfterMinutes;
    // The milestones queue is busy (held here): every milestone is queued, none runs yet.
    await ctx.queues.milestones.pause();
    const lastDay = isoDate(Date.now() - 10 * DAY_MS);
    await submit(rt, [
      ...ids.slice(0, 8).map((personId) => hrEvent({ personId, lastDay, timezone: 'Europe/Berlin' })),
      ...ids.slice(8).map((personId) =>
        hrEvent({
          personId,
          type: 'contract.terminated',
          effectiveAt: new Date(Date.now() - 3 * DAY_MS).toISOString(),
        }),
      ),
    ]);
    const records = await eventually(async () => {
      const got = await ctx.people.getMany(ids);
      return got.length === ids.length ? got : undefined;
    });
    // Every open milestone is days past its dueAt, and queued.
    const open = records.flatMap((r) => r.milestones.filter((m) => m.state === 'scheduled'));
    expect(open.length).toBeGreaterThanOrEqual(ids.length * 4);
    for (const m of open) expect(Date.parse(m.dueAt)).toBeLessThan(Date.now() - DAY_MS);

    const first = await checkOverdue(ctx, overdueAfterMinutes);
    expect(first).toMatchObject({ count: 0, alerted: 0 });
    const overdueAlerts = async () =>
      (await ctx.audit.list({ limit: 5000 })).filter((e) => e.type === 'alert.milestone_overdue');
    expect(await overdueAlerts()).toEqual([]);
    expect([...(await scrape(rt, 'lastday_milestones_overdue')).values()].every((v) => v === 0)).toBe(true);
    // Each knows when lastday learned of it.
    expect(open.every((m) => m.actionableAt !== undefined)).toBe(true);

    // lastday still has not acted past its allowance: now that is lastday's lateness.
    aheadMs = (overdueAfterMinutes + 1) * MIN_MS;
    const late = await checkOverdue(ctx, overdueAfterMinutes);
    expect(late.count).toBe(open.length);
    expect(late.alerted).toBe(open.length);
    for (const o of late.overdue) {
      expect(o.actionableAt).toBeDefined();
      // Counted from when lastday learned of it, not from dueAt days ago.
      expect(o.overdueMinutes).toBeGreaterThanOrEqual(overdueAfterMinutes);
      expect(o.overdueMinutes).toBeLessThan(DAY_MS / MIN_MS);
    }
    expect((await overdueAlerts())[0]?.details).toMatchObject({ actionableAt: expect.any(String) });

    // The queue runs; nothing is overdue any more.
    await ctx.queues.milestones.resume();
    await eventually(async () => {
      const got = await ctx.people.getMany(ids);
      return got.every((r) => r.milestones.every((m) => m.state !== 'scheduled'));
    }, 20_000);
    expect((await checkOverdue(ctx, overdueAfterMinutes)).count).toBe(0);
  });
});

describe('lateness of a milestone HR told lastday about months late', () => {
  let rt: Runtime;

  beforeAll(async () => {
    rt = await testRuntime(testSettings(), { roles: ['api', 'worker'] });
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('lands in lastday_hr_event_lateness_seconds, not in lastday_milestone_lateness_seconds', async () => {
    const personId = 'late/months';
    // The last day was 200 days ago (the incident's event was 362 days late).
    await submit(rt, [hrEvent({ personId, lastDay: isoDate(Date.now() - 200 * DAY_MS), timezone: 'UTC' })]);
    const done = await eventually(async () => {
      const r = await rt.ctx.people.get(personId);
      return r?.milestones.every((m) => m.state === 'done') ? r : undefined;
    }, 20_000);

    // A worker counts the milestone just after its save answers.
    const lateness = await eventually(async () => {
      const s = await scrape(rt, 'lastday_milestone_lateness_seconds_bucket');
      return bucket(s, '+Inf', 'verify') === 1 ? s : undefined;
    });
    // lastday ran each within the hour it learned of it (far within; no timing asserted).
    for (const m of ['notice', 'reduce', 'freeze', 'revoke', 'verify']) {
      expect(bucket(lateness, '+Inf', m)).toBe(1);
      expect(bucket(lateness, '3600', m)).toBe(1);
    }
    // HR's part: more than 30 days, less than a year, for every milestone.
    const hr = await scrape(rt, 'lastday_hr_event_lateness_seconds_bucket');
    for (const m of ['notice', 'reduce', 'freeze', 'revoke', 'verify']) {
      expect(bucket(hr, '+Inf', m)).toBe(1);
      expect(bucket(hr, '2592000', m)).toBe(0);
      expect(bucket(hr, '31536000', m)).toBe(1);
    }
    const revoke = done.milestones.find((m) => m.name === 'revoke')!;
    expect(Date.parse(revoke.actionableAt!) - Date.parse(revoke.dueAt)).toBeGreaterThan(199 * DAY_MS);
    // The audit keeps both: lastday's lateness and HR's.
    const entry = (await rt.ctx.audit.list({ personId })).find(
      (e) => e.type === 'milestone.done' && e.details.milestone === 'revoke',
    )!;
    expect(Number(entry.details.hrLateMs)).toBeGreaterThan(199 * DAY_MS);
    expect(Number(entry.details.lateMs)).toBeLessThan(3_600_000);
  });
});
