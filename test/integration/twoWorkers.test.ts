/**
 * Scale-out: two worker-only runtimes (as two processes would) on one prefix
 * process the same timelines. Every effect happens once: one audit entry per
 * effect and connector, and the directory ends disabled for everyone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/app/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { submitHrEvent } from '../../src/queues/intake.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { eventually, testContext, testRuntime, testSettings } from '../helpers/lastday.ts';

const settings = testSettings({ policy: { verifyAfterMinutes: 0.02 } });
const PEOPLE = 30;
let ctx: Context;
let workers: Runtime[] = [];

beforeAll(async () => {
  ctx = await testContext(settings);
  workers = await Promise.all([
    testRuntime(settings, { roles: ['worker'] }),
    testRuntime(settings, { roles: ['worker'] }),
  ]);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await ctx?.close();
});

describe('two worker processes', () => {
  it('apply every effect exactly once', async () => {
    const ids = Array.from({ length: PEOPLE }, (_, i) => `p-${i}`);
    const soon = endingSoon(2);
    for (const id of ids) {
      await ctx.directory.put(
        id,
        {
          active: true,
          grants: [
            { id: 'admin', system: 'cms', role: 'admin', privileged: true },
            { id: 'read', system: 'cms', role: 'reader', privileged: false },
          ],
        },
        new Date().toISOString(),
      );
    }
    await Promise.all(
      ids.map((id) =>
        submitHrEvent(
          { events: ctx.events, queue: ctx.queues.hrEvents, now: ctx.now },
          hrEvent({ personId: id, lastDay: soon.lastDay, endTime: soon.endTime, timezone: soon.timezone }),
          'cli',
        ),
      ),
    );
    await eventually(async () => {
      const records = await ctx.people.getMany(ids);
      return records.length === PEOPLE && records.every((r) => r.milestones.every((m) => m.state === 'done'));
    }, 25_000);

    // Both workers took part (not a test of one worker twice). A worker counts a
    // milestone just after its save answers, so the last counts may trail the
    // records read above by a moment.
    const counts = () =>
      Promise.all(
        workers.map(async (w) =>
          (await w.ctx.metrics.milestonesDone.get()).values.reduce((sum, v) => sum + v.value, 0),
        ),
      );
    const perWorker = await eventually(async () => {
      const c = await counts();
      return c.reduce((a, b) => a + b) >= PEOPLE * 5 ? c : undefined;
    }, 5_000);
    expect(perWorker.reduce((a, b) => a + b)).toBe(PEOPLE * 5);
    expect(
      perWorker.every((n) => n > 0),
      `milestones per worker: ${perWorker}`,
    ).toBe(true);

    for (const id of ids) {
      const types = (await ctx.audit.list({ personId: id })).map((e) => e.type);
      for (const effect of ['effect.reduce', 'effect.revoke', 'effect.verify']) {
        expect(
          types.filter((t) => t === effect),
          `${id} ${effect}`,
        ).toHaveLength(1);
      }
      for (const m of ['notice', 'reduce', 'freeze', 'revoke', 'verify']) {
        const done = (await ctx.audit.list({ personId: id })).filter(
          (e) => e.type === 'milestone.done' && e.details.milestone === m,
        );
        expect(done, `${id} ${m} done once`).toHaveLength(1);
      }
      const user = await ctx.directory.get(id);
      expect(user).toMatchObject({ active: false, grants: [] });
    }
    expect((await ctx.audit.verify()).ok).toBe(true);
  });
});
