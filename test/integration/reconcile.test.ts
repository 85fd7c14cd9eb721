/**
 * Reconcile on real Redis: a deleted delayed job comes back, milestones that
 * went past due while no worker ran are run, a person known only from the
 * roster gets planned, and a second run changes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { runOpsTask } from '../../jobs/ops/tasks.ts';
import { horizonPass, reconcile } from '../../jobs/ops/reconcile.ts';
import type { Context } from '../../src/app/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { ARM_LEAD_MS } from '../../src/domain/armLead.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { MILESTONES } from '../../src/domain/milestone.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import { hrEvent } from '../helpers/events.ts';
import { eventually, testContext, testPrefix, testRuntime, testSettings } from '../helpers/lastday.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastday-reconcile-'));
const rosterFile = join(dir, 'roster.json');
const T0 = Date.parse('2026-11-23T10:00:00Z');
let clock = T0;
const now = () => new Date(clock);
const settings = testSettings({
  crons: { rosterSync: { source: rosterFile }, reconcile: { withRoster: true } },
});
let ctx: Context | undefined;
let worker: Runtime | undefined;

afterAll(async () => {
  await worker?.stop();
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reconcile', () => {
  it('repairs lost jobs, missed instants and roster-only people; a second run changes nothing', async () => {
    writeFileSync(rosterFile, '[]');
    ctx = await testContext(settings, now);
    const c = ctx;
    // No worker runs: plans are saved and their jobs scheduled, nothing executes.
    const later = hrEvent({
      personId: 'far:away',
      lastDay: '2027-03-10',
      occurredAt: '2026-11-23T09:00:00Z',
    });
    const soon = hrEvent({ personId: 'soon/1', lastDay: '2026-11-27', occurredAt: '2026-11-23T09:00:00Z' });
    await applyEvent(c, later as HrEvent);
    await applyEvent(c, soon as HrEvent);
    await c.directory.put(
      'soon/1',
      { active: true, grants: [{ id: 'g-admin', system: 'cms', role: 'admin', privileged: true }] },
      now().toISOString(),
    );

    // far:away is months ahead, beyond the horizon: no job at all.
    for (const m of MILESTONES) {
      expect(await c.queues.milestones.getJobState(milestoneJobId('far:away', 1, m))).toBe('unknown');
    }
    // soon/1 has one job, its first open milestone's.
    const soonPlan = (await c.people.get('soon/1'))!;
    const firstOpen = soonPlan.milestones.find((m) => m.state === 'scheduled')!;
    expect(Date.parse(firstOpen.dueAt) - clock).toBeLessThan(48 * 3_600_000);
    const lost = milestoneJobId('soon/1', 1, firstOpen.name);
    for (const m of soonPlan.milestones.filter((x) => x.name !== firstOpen.name)) {
      expect(await c.queues.milestones.getJobState(milestoneJobId('soon/1', 1, m.name))).toBe('unknown');
    }

    // The pass a scheduler makes at start: everything within the horizon has its job already.
    expect(await horizonPass(c)).toBe(0);

    // 1. A lost job.
    expect(await c.queues.milestones.getJobState(lost)).toMatch(/delayed|wait/);
    await c.queues.milestones.remove(lost);
    expect(await c.queues.milestones.getJobState(lost)).toBe('unknown');
    const first = await reconcile(c);
    expect(first).toMatchObject({ scanned: 2, open: 2, rescheduled: 1, requeued: 0, errors: 0 });
    expect(await c.queues.milestones.getJobState(lost)).toMatch(/delayed|wait/);

    // 2. Ten days pass with no worker: every milestone of soon/1 is past due, its job still delayed.
    clock = T0 + 10 * 86_400_000;
    const second = await reconcile(c);
    expect(second.rescheduled).toBe(0);
    expect(await c.queues.milestones.getJobState(lost)).toMatch(/waiting|wait/);
    const third = await reconcile(c);
    expect(third).toMatchObject({ rescheduled: 0, promoted: 0, requeued: 0, errors: 0 });

    // 3. A person only the roster knows, picked up by the reconcile task.
    writeFileSync(
      rosterFile,
      JSON.stringify([
        { id: 'roster-only', employment: 'employee', timezone: 'Europe/Berlin', lastDay: '2027-01-29' },
      ]),
    );
    const withRoster = (await runOpsTask(c, 'reconcile')) as { roster: { added: number } };
    expect(withRoster.roster.added).toBe(1);

    // A worker comes up: the promoted milestones run at once, the roster event is applied.
    worker = await testRuntime(settings, { roles: ['worker'], now });
    const done = await eventually(async () => {
      const p = await c.people.get('soon/1');
      return p?.milestones.every((m) => m.state === 'done') ? p : undefined;
    }, 15_000);
    expect(done.milestones.map((m) => m.name)).toEqual(['notice', 'reduce', 'freeze', 'revoke', 'verify']);
    expect((await c.directory.get('soon/1'))?.active).toBe(false);
    const planned = await eventually(() => c.people.get('roster-only'));
    expect(planned.lastDay).toBe('2027-01-29');

    // Twice changes nothing: no jobs to repair, the roster event is a duplicate.
    const again = (await runOpsTask(c, 'reconcile')) as Record<string, unknown> & {
      roster: { added: number; changed: number; submitted: Record<string, number> };
    };
    expect(again).toMatchObject({ rescheduled: 0, promoted: 0, requeued: 0, errors: 0 });
    expect(again.roster).toMatchObject({
      added: 0,
      changed: 0,
      submitted: { accepted: 0, duplicate: 0, rejected: 0 },
    });
    const audit = await c.audit.list({ personId: 'soon/1' });
    expect(audit.filter((e) => e.type === 'effect.revoke')).toHaveLength(1);
    expect((await c.audit.verify()).ok).toBe(true);
  });
});

// Only the key layout on one Redis; the real cluster runs are in test/cluster/.
describe('reconcile under a hash-tagged prefix, on a single Redis', () => {
  it('finds and repairs jobs the same way', async () => {
    // A horizon of a year: the first open milestone's job exists.
    const tagged = testSettings(
      {},
      { LASTDAY_PREFIX: `{${testPrefix()}}`, LASTDAY_HORIZON_HOURS: String(24 * 366) },
    );
    const c = await testContext(tagged);
    try {
      await applyEvent(c, hrEvent({ personId: 'tagged', lastDay: '2027-05-05' }) as HrEvent);
      const id = milestoneJobId('tagged', 1, 'notice');
      expect(await horizonPass(c)).toBe(0);
      await c.queues.milestones.remove(id);
      expect(await reconcile(c)).toMatchObject({ scanned: 1, rescheduled: 1 });
      expect(await c.queues.milestones.getJobState(id)).toBe('delayed');
      expect(await c.redis.keys('*tagged*')).toSatisfy((keys: string[]) =>
        keys.every((k) => k.startsWith(`${tagged.env.LASTDAY_PREFIX}:`)),
      );
    } finally {
      await c.close();
    }
  });
});

describe('the horizon pass', () => {
  it('adds the job of a milestone coming within the horizon, delivered the arm lead before its instant, once', async () => {
    let at = T0;
    const c = await testContext(testSettings({ workers: { horizonHours: 48 } }), () => new Date(at));
    try {
      await applyEvent(c, hrEvent({ personId: 'far/h', lastDay: '2027-03-10' }) as HrEvent);
      const plan = (await c.people.get('far/h'))!;
      const first = plan.milestones.find((m) => m.state === 'scheduled')!;
      const id = milestoneJobId('far/h', 1, first.name);
      expect(await c.queues.milestones.getJobState(id)).toBe('unknown');
      expect(await horizonPass(c)).toBe(0);

      at = Date.parse(first.dueAt) - 47 * 3_600_000;
      expect(await reconcile(c)).toMatchObject({ horizonAdded: 1, rescheduled: 0, errors: 0 });
      const job = (await c.queues.milestones.getJob(id))!;
      expect(await job.getState()).toBe('delayed');
      expect(job.opts.delay).toBe(47 * 3_600_000 - ARM_LEAD_MS);
      expect(await horizonPass(c)).toBe(0);
      expect(await reconcile(c)).toMatchObject({ horizonAdded: 0, rescheduled: 0 });
    } finally {
      await c.close();
    }
  });
});
