/**
 * At-least-once delivery of HR events (jobs/hrEvent.ts): the record names the
 * events handled for the person (PersonRecord.recentEvents), written by the
 * same revision-checked save as the plan or the stale entry. A job run again
 * after its save is a duplicate: nothing changes, nothing is recorded twice.
 * People whose events were handled by the version that kept one key per event
 * still have those keys read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHrEventProcessor } from '../../jobs/hrEvent.ts';
import type { Context } from '../../src/app/context.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { asJob, hrEvent } from '../helpers/events.ts';
import { testContext, testSettings } from '../helpers/lastday.ts';

let ctx: Context;
beforeAll(async () => {
  ctx = await testContext(testSettings());
});
afterAll(async () => {
  await ctx?.close();
});

async function entries(personId: string) {
  return (await ctx.audit.list({ personId })).map((e) => `${e.type} ${String(e.details.eventId)}`);
}

/** Saves `record` as the version before recentEvents stored it: without the field. */
async function saveAsBefore(record: PersonRecord): Promise<void> {
  const { recentEvents: _r, legacyEventMarks: _l, ...before } = record;
  await ctx.people.save(before);
}

describe('an HR event job run again after its save', () => {
  it('applied: the second run is a duplicate, the plan and its entry are written once', async () => {
    const personId = 'rerun/applied';
    const event = hrEvent({ personId, lastDay: '2027-05-10', occurredAt: '2026-11-20T09:00:00Z' });
    const process = createHrEventProcessor(ctx);
    expect((await process(asJob(event))).outcome).toBe('applied');
    const saved = (await ctx.people.get(personId))!;
    expect(saved.recentEvents).toEqual([event.eventId]);
    expect(saved.legacyEventMarks).toBeUndefined();

    expect((await process(asJob(event))).outcome).toBe('duplicate');
    const after = (await ctx.people.get(personId))!;
    expect(after.rev).toBe(saved.rev);
    expect(after.planVersion).toBe(1);
    expect(await entries(personId)).toEqual([`hr_event.applied ${String(event.eventId)}`]);
    // Nothing of the worker's per event outside the record any more.
    expect(await ctx.redis.exists(ctx.keys.eventApplied(String(event.eventId)))).toBe(0);
  });

  it('stale: recorded once with the event noted, the second run is a duplicate', async () => {
    const personId = 'rerun/stale';
    const newer = hrEvent({ personId, lastDay: '2027-05-20', occurredAt: '2026-11-21T09:00:00Z' });
    const older = hrEvent({ personId, lastDay: '2027-05-10', occurredAt: '2026-11-20T09:00:00Z' });
    const process = createHrEventProcessor(ctx);
    await process(asJob(newer));
    const applied = (await ctx.people.get(personId))!;

    expect((await process(asJob(older))).outcome).toBe('stale');
    const noted = (await ctx.people.get(personId))!;
    expect(noted.recentEvents).toEqual([newer.eventId, older.eventId]);
    // Only the handled events and the revision move: the plan is the applied one.
    const { rev: _a, recentEvents: _b, ...plan } = applied;
    const { rev: _c, recentEvents: _d, ...unchanged } = noted;
    expect(unchanged).toEqual(plan);

    expect((await process(asJob(older))).outcome).toBe('duplicate');
    expect((await ctx.people.get(personId))!.rev).toBe(noted.rev);
    expect(await entries(personId)).toEqual([
      `hr_event.applied ${String(newer.eventId)}`,
      `hr_event.stale ${String(older.eventId)}`,
    ]);
    expect((await ctx.audit.verify()).ok).toBe(true);
  });

  it('the window is bounded: the newest events, oldest first', async () => {
    const personId = 'rerun/window';
    const process = createHrEventProcessor(ctx);
    const events = Array.from({ length: 7 }, (_, i) =>
      hrEvent({ personId, lastDay: '2027-06-01', occurredAt: `2026-11-2${i}T09:00:00Z` }),
    );
    for (const e of events) expect((await process(asJob(e))).outcome).toBe('applied');
    const record = (await ctx.people.get(personId))!;
    expect(record.recentEvents).toEqual(events.slice(-5).map((e) => e.eventId));
    // Past the window the event is judged by its age: stale, nothing changes.
    expect((await process(asJob(events[0]!))).outcome).toBe('stale');
    expect((await ctx.people.get(personId))!.planVersion).toBe(7);
  });
});

describe('people whose events were handled before the record kept them', () => {
  it("the earlier version's marks still make a repeat a duplicate, also after a new event", async () => {
    const personId = 'rerun/legacy';
    const first = hrEvent({ personId, lastDay: '2027-05-10', occurredAt: '2026-11-20T09:00:00Z' });
    const second = hrEvent({ personId, lastDay: '2027-05-12', occurredAt: '2026-11-20T09:00:00Z' });
    const staleOne = hrEvent({ personId, lastDay: '2027-05-01', occurredAt: '2026-11-19T09:00:00Z' });
    const process = createHrEventProcessor(ctx);
    // What the earlier version left: the record without recentEvents, a mark
    // per handled event in the person's partition (the newest) or on intake's
    // key (older builds).
    await process(asJob(first));
    await process(asJob(second));
    await saveAsBefore((await ctx.people.get(personId))!);
    await ctx.redis.set(ctx.keys.eventApplied(String(first.eventId)), 'applied');
    await ctx.redis.set(ctx.keys.eventSeen(String(staleOne.eventId)), 'stale');
    const before = (await entries(personId)).length;

    // `first` has the same occurredAt as the newest: without its mark it would be applied again.
    expect((await process(asJob(first))).outcome).toBe('duplicate');
    expect((await process(asJob(staleOne))).outcome).toBe('duplicate');

    const third = hrEvent({ personId, lastDay: '2027-05-14', occurredAt: '2026-11-22T09:00:00Z' });
    expect((await process(asJob(third))).outcome).toBe('applied');
    const upgraded = (await ctx.people.get(personId))!;
    expect(upgraded.recentEvents).toEqual([third.eventId]);
    expect(upgraded.legacyEventMarks).toBe(true);
    expect((await process(asJob(first))).outcome).toBe('duplicate');
    expect((await process(asJob(staleOne))).outcome).toBe('duplicate');
    expect((await entries(personId)).slice(before)).toEqual([`hr_event.applied ${String(third.eventId)}`]);
  });
});
