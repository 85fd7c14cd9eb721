/**
 * Lost crons come back (issue #9 item 8). A job scheduler is a chain — each
 * run's job is added when the previous one is picked up — so when the `ops`
 * queue's pending jobs are lost (a Redis that lost data, a key deleted by hand)
 * every cron, reconcile included, used to stop for good. Here, on the test
 * Redis:
 *
 * - a running lastday gets every cron back after its `ops` queue keys are
 *   deleted, without a restart (the watchdog), and /metrics shows each cron's
 *   last-run age;
 * - a reconcile pass re-creates a lost scheduler on its own (watchdog off);
 * - `syncJobSchedulers` heals the half-lost state BullMQ refuses to upsert over
 *   (the pending job's hash kept, its `delayed` entry gone);
 * - a late cron raises one `cron_late` alert per lateness episode, however
 *   many scheduler processes watch and however often they look (injected clock).
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/app/context.ts';
import { CronWatchdog } from '../../src/app/cronWatchdog.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { lostSchedules, syncJobSchedulers } from '../../src/queues/crons.ts';
import {
  LogCapture,
  eventually,
  testContext,
  testLogger,
  testRuntime,
  testSettings,
} from '../helpers/lastday.ts';

const EVERY_SECOND = '* * * * * *';
const open: { stop(): Promise<unknown> }[] = [];
afterAll(async () => {
  for (const o of open.reverse()) await o.stop();
});

/** Every key of the `ops` BullMQ queue (not lastday's own `ops:last-run:…` records): lost data. */
async function deleteOpsQueueKeys(ctx: Context): Promise<number> {
  const base = `${ctx.prefix}:ops:`;
  const own = [`${base}last-run:`, `${base}overdue`, `${base}cron-late:`];
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await ctx.redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 1000);
    cursor = next;
    const theirs = keys.filter((k) => !own.some((o) => k.startsWith(o)));
    if (theirs.length > 0) deleted += await ctx.redis.del(...theirs);
  } while (cursor !== '0');
  return deleted;
}

async function lastStart(ctx: Context, task: string): Promise<number> {
  const raw = await ctx.redis.get(ctx.keys.opsLastRun(task));
  return raw ? Date.parse((JSON.parse(raw) as { startedAt: string }).startedAt) : 0;
}

/** The scheduler's pending job is waiting to run: the chain is alive. */
async function pendingJobState(queue: Queue, task: string): Promise<string> {
  const scheduler = await queue.getJobScheduler(task);
  if (!scheduler?.next) return 'no scheduler';
  return queue.getJobState(`repeat:${task}:${scheduler.next}`);
}

async function cronLateAlerts(ctx: Context, task: string): Promise<number> {
  const entries = await ctx.audit.list({ limit: 5000 });
  return entries.filter((e) => e.type === 'alert.cron_late' && e.details.cron === task).length;
}

function metricValue(text: string, line: RegExp): number | undefined {
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? undefined : Number(m.split(' ').at(-1));
}

async function runtimeWithCrons(
  crons: Record<string, unknown>,
  watchdogMs: number,
  options: { capture?: LogCapture; now?: () => Date } = {},
) {
  const rt: Runtime = await testRuntime(testSettings({ crons }), {
    roles: ['api', 'scheduler'],
    // Patient (10 ticks), so a loaded machine does not make a per-second cron late by accident.
    watchdog: { intervalMs: watchdogMs, missedTicks: 10 },
    ...(options.capture ? { log: testLogger('info', options.capture) } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  open.push(rt);
  return rt;
}

describe('a running lastday whose ops queue lost its keys', () => {
  it(
    'gets every cron back without a restart; /metrics shows their age; a late one alerts once',
    { timeout: 60_000 },
    async () => {
      const tasks = ['reconcile', 'overdue', 'hold-expiry'];
      // The context's clock runs with real time (BullMQ's scheduler does) plus a skew the test sets.
      let skewMs = 0;
      const rt = await runtimeWithCrons(
        {
          reconcile: { pattern: EVERY_SECOND },
          overdue: { pattern: EVERY_SECOND },
          holdExpiry: { pattern: EVERY_SECOND },
          retention: { enabled: false },
        },
        250,
        { now: () => new Date(Date.now() + skewMs) },
      );
      const { ctx } = rt;
      await eventually(
        async () => (await Promise.all(tasks.map((t) => lastStart(ctx, t)))).every((s) => s > 0),
        20_000,
      );

      // Everything the queue had: schedulers, pending jobs, ids, markers.
      expect(await deleteOpsQueueKeys(ctx)).toBeGreaterThan(0);
      // No check that the count is 0 here: a pass that started before the deletion may
      // already be putting the schedulers back (a race the earlier assertion lost now and then).
      const lostAt = Date.now();

      await eventually(
        async () => (await Promise.all(tasks.map((t) => lastStart(ctx, t)))).every((s) => s > lostAt + 1),
        20_000,
      );
      expect((await ctx.queues.ops.getJobSchedulers(0, -1)).map((s) => s.id ?? s.key).sort()).toEqual(
        [...tasks].sort(),
      );

      // Half lost: the pending jobs' hashes are still there, the delayed set is gone.
      await ctx.redis.del(ctx.queues.ops.keys.delayed!);
      const halfLostAt = Date.now();
      await eventually(
        async () => (await Promise.all(tasks.map((t) => lastStart(ctx, t)))).every((s) => s > halfLostAt + 1),
        20_000,
      );

      const ages = async () => {
        const text = await (await fetch(`${rt.url}/metrics`)).text();
        return tasks.map((task) =>
          metricValue(text, new RegExp(`^lastday_cron_last_run_age_seconds\\{cron="${task}"\\} `)),
        );
      };
      for (const age of await ages()) {
        expect(age).toBeGreaterThanOrEqual(0);
        expect(age).toBeLessThan(30);
      }
      expect(await cronLateAlerts(ctx, 'overdue')).toBe(0); // healed before it was late

      // Stopped for good, chain intact (the queue paused), and 60 s pass on lastday's clock.
      await ctx.queues.ops.pause();
      // pause() stops new jobs only: a pass a worker took just before it would stamp its
      // start on the moved clock (an age of 0 s below). Let it finish first.
      await eventually(async () => (await ctx.queues.ops.getActiveCount()) === 0, 20_000);
      skewMs = 60_000;
      await eventually(async () => (await cronLateAlerts(ctx, 'overdue')) === 1, 20_000);
      for (const age of await ages()) expect(age).toBeGreaterThanOrEqual(60);
      await ctx.queues.ops.resume();
      const resumedAt = Date.now() + skewMs;
      await eventually(
        async () => (await Promise.all(tasks.map((t) => lastStart(ctx, t)))).every((s) => s > resumedAt + 1),
        20_000,
      );
      // One alert per cron for the whole episode, however many times the watchdog looked.
      for (const task of tasks) expect(await cronLateAlerts(ctx, task)).toBe(1);
    },
  );
});

describe('a reconcile pass', () => {
  it(
    're-creates schedulers that lost their pending job or were removed (watchdog off)',
    { timeout: 60_000 },
    async () => {
      const capture = new LogCapture();
      const rt = await runtimeWithCrons(
        {
          reconcile: { pattern: EVERY_SECOND },
          overdue: { pattern: '0 3 * * *' }, // far away: only a re-upsert brings its job back
          holdExpiry: { pattern: '0 4 * * *' },
        },
        0,
        { capture },
      );
      const queue = rt.ctx.queues.ops;
      await eventually(async () => (await lastStart(rt.ctx, 'reconcile')) > 0, 20_000);
      expect(await pendingJobState(queue, 'overdue')).toBe('delayed');

      // overdue's pending job lost; hold-expiry's scheduler removed (as through the dashboard).
      const next = (await queue.getJobScheduler('overdue'))!.next!;
      await rt.ctx.redis
        .multi()
        .zrem(queue.keys.delayed!, `repeat:overdue:${next}`)
        .del(queue.toKey(`repeat:overdue:${next}`))
        .zrem(queue.keys.repeat!, 'hold-expiry')
        .del(queue.toKey('repeat:hold-expiry'))
        .exec();

      // A pass may already be between the two crons when they break: then the next one heals the other.
      const healed = () =>
        capture.lines
          .map((l) => JSON.parse(l) as { msg: string; crons?: string[] })
          .filter((l) => l.msg.startsWith('reconcile: cron schedulers were broken'))
          .flatMap((l) => l.crons ?? []);
      await eventually(async () => healed().includes('overdue') && healed().includes('hold-expiry'));
      expect(await pendingJobState(queue, 'overdue')).toBe('delayed');
      expect(await pendingJobState(queue, 'hold-expiry')).toBe('delayed');
    },
  );
});

describe('syncJobSchedulers', () => {
  it('heals a scheduler whose pending job lost its delayed entry but kept its hash', async () => {
    const ctx = await testContext(
      testSettings({
        crons: {
          reconcile: { enabled: false },
          holdExpiry: { enabled: false },
          retention: { enabled: false },
        },
      }),
    );
    open.push({ stop: () => ctx.close() });
    const queue = ctx.queues.ops;
    const { crons } = ctx.settings.config;
    await syncJobSchedulers(queue, crons, ctx.redis);
    expect(await lostSchedules(queue, crons)).toEqual([]);

    await ctx.redis.del(queue.keys.delayed!);
    expect(await lostSchedules(queue, crons)).toEqual(['overdue']);
    // BullMQ alone refuses: "Cannot create job scheduler iteration - job ID already exists".
    const sync = await syncJobSchedulers(queue, crons, ctx.redis);
    expect(sync.failed).toEqual([]);
    expect(await lostSchedules(queue, crons)).toEqual([]);
    expect(await pendingJobState(queue, 'overdue')).toBe('delayed');
  });
});

describe('the cron watchdog (injected clock)', () => {
  it('raises one cron_late alert per lateness episode across scheduler processes', async () => {
    let now = new Date('2026-03-02T10:00:30.000Z');
    const clock = () => now;
    const settings = testSettings({
      crons: {
        overdue: { pattern: '* * * * *' },
        reconcile: { enabled: false },
        holdExpiry: { enabled: false },
      },
    });
    const capture = new LogCapture();
    const ctx = await testContext(settings, clock);
    const other = await testContext(settings, clock); // a second scheduler process
    open.push({ stop: () => ctx.close() }, { stop: () => other.close() });
    (ctx as { log: Context['log'] }).log = testLogger('info', capture);
    await syncJobSchedulers(ctx.queues.ops, settings.config.crons, ctx.redis);
    // No ops worker runs: the cron never completes.
    const one = new CronWatchdog(ctx, ctx.queues.ops, { intervalMs: 0 });
    const two = new CronWatchdog(other, other.queues.ops, { intervalMs: 0 });
    const look = async () => [await one.check(), await two.check()];

    now = new Date('2026-03-02T10:02:59.000Z'); // two ticks missed: not late yet
    expect((await look()).map((c) => c.late)).toEqual([[], []]);

    now = new Date('2026-03-02T10:03:00.500Z'); // the third tick passed
    const [first, second] = await look();
    expect(first).toMatchObject({ late: ['overdue'], newlyLate: ['overdue'], healed: [] });
    expect(second).toMatchObject({ late: ['overdue'], newlyLate: ['overdue'] });
    for (const minute of [4, 5, 6, 7, 8, 9]) {
      now = new Date(`2026-03-02T10:0${minute}:10.000Z`);
      expect((await look()).map((c) => c.newlyLate)).toEqual([[], []]);
    }
    expect(await cronLateAlerts(ctx, 'overdue')).toBe(1);
    const alert = (await ctx.audit.list({ limit: 5000 })).find((e) => e.type === 'alert.cron_late');
    expect(alert?.details).toMatchObject({ cron: 'overdue', pattern: '* * * * *', lastStartedAt: null });
    expect(await ctx.metrics.registry.getSingleMetricAsString('lastday_alerts_total')).toContain(
      'lastday_alerts_total{kind="cron_late"} 1',
    );

    // It runs again: the episode ends.
    await ctx.opsRuns.record('overdue', {
      startedAt: '2026-03-02T10:10:00.100Z',
      finishedAt: '2026-03-02T10:10:00.900Z',
      result: {},
    });
    now = new Date('2026-03-02T10:10:05.000Z');
    expect((await look()).map((c) => c.late)).toEqual([[], []]);
    expect(capture.lines.some((l) => l.includes('cron back on schedule'))).toBe(true);

    // And stops again: a new episode, one more alert.
    now = new Date('2026-03-02T10:13:00.500Z');
    expect((await look()).map((c) => c.newlyLate)).toEqual([['overdue'], ['overdue']]);
    now = new Date('2026-03-02T10:20:00.000Z');
    await look();
    expect(await cronLateAlerts(ctx, 'overdue')).toBe(2);
  });

  it('measures a cron in its own ticks and ignores time lastday was not running', async () => {
    let now = new Date('2026-11-27T12:00:00.000Z'); // a Friday
    const settings = testSettings({
      crons: {
        reconcile: { pattern: '0 9 * * 1-5', tz: 'Europe/Berlin' }, // weekdays 08:00Z
        overdue: { enabled: false },
        holdExpiry: { enabled: false },
        retention: { enabled: false },
      },
    });
    const ctx = await testContext(settings, () => now);
    open.push({ stop: () => ctx.close() });
    // Its last run was a month ago, before this process started watching.
    await ctx.opsRuns.record('reconcile', {
      startedAt: '2026-10-27T08:00:00.100Z',
      finishedAt: '2026-10-27T08:00:05.000Z',
      result: {},
    });
    const watchdog = new CronWatchdog(ctx, ctx.queues.ops, { intervalMs: 0 });
    now = new Date('2026-12-01T09:00:00.000Z'); // Tuesday: Mon and Tue ticks missed, not late
    expect((await watchdog.check()).late).toEqual([]);
    now = new Date('2026-12-02T08:00:01.000Z'); // Wednesday's tick passed too
    expect((await watchdog.check()).late).toEqual(['reconcile']);
  });
});
