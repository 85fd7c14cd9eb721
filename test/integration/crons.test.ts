/** Cron config: defaults, validation, and job schedulers that follow the config. */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/app/context.ts';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { syncJobSchedulers } from '../../src/queues/crons.ts';
import { QUEUES } from '../../src/queues/names.ts';
import { eventually, testContext, testRuntime, testSettings } from '../helpers/lastday.ts';

let ctx: Context | undefined;
let queue: Queue | undefined;
afterAll(async () => {
  await queue?.close();
  await ctx?.close();
});

describe('cron config', () => {
  it('has the documented defaults', () => {
    const { crons, alerts } = parseConfig({});
    expect(crons.reconcile).toEqual({ enabled: true, pattern: '*/5 * * * *', tz: 'UTC', withRoster: true });
    expect(crons.rosterSync.enabled).toBe(false);
    expect(crons.overdue).toMatchObject({ enabled: true, pattern: '* * * * *', overdueAfterMinutes: 15 });
    expect(crons.holdExpiry.enabled).toBe(true);
    expect(alerts.webhookUrl).toBeUndefined();
  });

  it('names the field of every problem', () => {
    let lines: string[] = [];
    try {
      parseConfig({
        crons: { reconcile: { pattern: 'every minute', tz: 'Mars/Base' }, rosterSync: { enabled: true } },
        alerts: { webhookUrl: 'https://alerts.example/hook' },
      });
    } catch (err) {
      lines = (err as ConfigError).lines;
    }
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^crons\.reconcile\.pattern: /),
        expect.stringMatching(/^crons\.reconcile\.tz: /),
        expect.stringMatching(/^crons\.rosterSync\.source: required when enabled/),
        expect.stringMatching(/^alerts\.secretEnv: required with webhookUrl/),
      ]),
    );
  });
});

describe('job schedulers', () => {
  it('are upserted from the config and removed when dropped from it', async () => {
    ctx = await testContext();
    queue = new Queue(QUEUES.ops, { connection: ctx.redis, prefix: ctx.prefix });
    const first = await syncJobSchedulers(queue, parseConfig({}).crons, ctx.redis);
    expect(first.upserted.sort()).toEqual(['hold-expiry', 'overdue', 'reconcile', 'retention']);
    // Idempotent: a second scheduler process starting changes nothing.
    expect((await syncJobSchedulers(queue, parseConfig({}).crons, ctx.redis)).removed).toEqual([]);
    expect(await queue.getJobSchedulersCount()).toBe(4);

    const changed = parseConfig({
      crons: {
        overdue: { enabled: false },
        reconcile: { pattern: '0 * * * *', tz: 'Europe/Berlin' },
        rosterSync: { enabled: true, source: '/tmp/roster.json' },
      },
    }).crons;
    const second = await syncJobSchedulers(queue, changed, ctx.redis);
    expect(second.removed).toEqual(['overdue']);
    const schedulers = await queue.getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.id ?? s.key).sort()).toEqual([
      'hold-expiry',
      'reconcile',
      'retention',
      'roster-sync',
    ]);
    expect(schedulers.find((s) => (s.id ?? s.key) === 'reconcile')).toMatchObject({
      pattern: '0 * * * *',
      tz: 'Europe/Berlin',
    });
  });
});

describe('scheduler role', () => {
  it('runs the cron tasks the schedulers trigger', async () => {
    const rt = await testRuntime(
      testSettings({
        crons: {
          overdue: { pattern: '* * * * * *' }, // every second
          reconcile: { enabled: false },
          holdExpiry: { enabled: false },
        },
      }),
      { roles: ['scheduler'] },
    );
    try {
      expect(rt.url).toBeUndefined();
      const run = await eventually(
        async () => (await rt.ctx.redis.get(rt.ctx.keys.opsLastRun('overdue'))) ?? undefined,
        10_000,
      );
      expect(JSON.parse(run)).toMatchObject({ result: { count: 0 } });
    } finally {
      await rt.stop();
    }
  });
});
