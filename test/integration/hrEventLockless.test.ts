/**
 * HR events applied without the person lock (jobs/hrEvent.ts): the revision
 * check orders them; a conflict reads again and applies again. A person with a
 * milestone due is applied under the lock as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHrEventProcessor, needsLock } from '../../jobs/hrEvent.ts';
import type { Context } from '../../src/app/context.ts';
import { asJob, hrEvent } from '../helpers/events.ts';
import { testContext, testSettings } from '../helpers/lastday.ts';

let ctx: Context;
beforeAll(async () => {
  ctx = await testContext(testSettings());
});
afterAll(async () => {
  await ctx?.close();
});

describe('an HR event without the person lock', () => {
  it('two events for one person at once: both handled, the newer plan wins, each audited once', async () => {
    const personId = 'lockless/1';
    const older = hrEvent({ personId, lastDay: '2027-03-10', occurredAt: '2026-11-20T09:00:00Z' });
    const newer = hrEvent({ personId, lastDay: '2027-03-20', occurredAt: '2026-11-21T09:00:00Z' });
    const process = createHrEventProcessor(ctx);
    const results = await Promise.all([process(asJob(older)), process(asJob(newer))]);
    expect(results.map((r) => r.outcome).sort()).toEqual(
      results.some((r) => r.outcome === 'stale') ? ['applied', 'stale'] : ['applied', 'applied'],
    );
    const record = (await ctx.people.get(personId))!;
    expect(record.lastDay).toBe('2027-03-20');
    expect(record.lastEvent.eventId).toBe(newer.eventId);
    const entries = await ctx.audit.list({ personId });
    const applied = entries.filter((e) => e.type === 'hr_event.applied').map((e) => e.details.eventId);
    expect(applied.filter((id) => id === newer.eventId)).toHaveLength(1);
    expect(applied.length).toBe(record.planVersion);
    // Both noted in the record as handled (no key per event): a repeat is a duplicate.
    expect(record.recentEvents).toEqual(expect.arrayContaining([older.eventId, newer.eventId]));
    for (const e of [older, newer]) expect(await ctx.events.isApplied(String(e.eventId))).toBe(false);
    expect((await process(asJob(newer))).outcome).toBe('duplicate');
    expect(await ctx.events.markAccepted(String(newer.eventId), new Date().toISOString())).toBe(false);
    expect((await ctx.audit.verify()).ok).toBe(true);
  });

  it('takes the lock once a milestone is due or was attempted', () => {
    const nowMs = Date.parse('2026-12-01T09:00:00Z');
    const plan = (dueAt: string, extra = {}) =>
      ({ milestones: [{ name: 'notice', dueAt, state: 'scheduled', ...extra }] }) as never;
    expect(needsLock(undefined, nowMs)).toBe(false);
    expect(needsLock(plan('2026-12-05T09:00:00Z'), nowMs)).toBe(false);
    expect(needsLock(plan('2026-12-01T09:00:30Z'), nowMs)).toBe(true);
    expect(needsLock(plan('2026-12-05T09:00:00Z', { lastError: 'x' }), nowMs)).toBe(true);
    expect(needsLock(plan('2026-11-05T09:00:00Z', { state: 'done' }), nowMs)).toBe(true);
  });
});
