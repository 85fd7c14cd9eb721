/**
 * Milestones due together on real Redis: a termination makes reduce, freeze and
 * revoke due at once. The person has one job, the first open milestone's: it runs
 * the three in order and then adds the next open milestone's job. A
 * job that gets the lock first also runs the later due milestones (catch-forward),
 * and a failing earlier milestone never blocks a later one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { runMilestoneJob } from '../../jobs/milestone.ts';
import type { Context } from '../../src/app/context.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { milestoneJobId } from '../../src/queues/names.ts';
import { hrEvent } from '../helpers/events.ts';
import { testContext, testSettings } from '../helpers/lastday.ts';

let ctx: Context;

beforeAll(async () => {
  ctx = await testContext(testSettings());
});
afterAll(async () => {
  await ctx?.close();
});

async function terminate(personId: string): Promise<number> {
  await ctx.directory.put(
    personId,
    { active: true, grants: [{ id: 'g-admin', system: 'cms', role: 'admin', privileged: true }] },
    new Date().toISOString(),
  );
  const event = hrEvent({ personId, type: 'contract.terminated', effectiveAt: new Date().toISOString() });
  const result = await applyEvent(ctx, event as HrEvent);
  if (result.outcome !== 'applied') throw new Error(`not applied: ${result.outcome}`);
  return result.planVersion;
}

async function doneOrder(personId: string): Promise<string[]> {
  const entries = await ctx.audit.list({ personId });
  return entries
    .filter((e) => e.type === 'milestone.done')
    .map((e) => String((e.details as { milestone?: unknown }).milestone));
}

describe('milestones due together', () => {
  it('schedules one job (the first open milestone) at its instant; it hands over to the next', async () => {
    const personId = 'term/schedule';
    const version = await terminate(personId);
    const q = ctx.queues.milestones;
    const record = (await ctx.people.get(personId))!;
    const [first, ...rest] = record.milestones.filter((m) => m.state === 'scheduled');
    expect(await q.getJobState(milestoneJobId(personId, version, first!.name))).toMatch(/^wait/);
    for (const m of rest) expect(await q.getJob(milestoneJobId(personId, version, m.name))).toBeUndefined();
    // Its run does the due prefix and adds the job of the next open milestone (verify, an hour later).
    const run = await runMilestoneJob(ctx, { personId, version, milestone: first!.name });
    expect(run).toEqual({ outcome: 'done', ran: ['reduce', 'freeze', 'revoke'] });
    expect(await q.getJobState(milestoneJobId(personId, version, 'verify'))).toBe('delayed');
  });

  it('the first job to run does the whole due prefix in order; the rest find it done', async () => {
    const personId = 'term/prefix';
    const version = await terminate(personId);
    // reduce's job first (as if its lock came first): catch-forward runs freeze and revoke.
    const first = await runMilestoneJob(ctx, { personId, version, milestone: 'reduce' });
    expect(first).toEqual({ outcome: 'done', ran: ['reduce', 'freeze', 'revoke'] });
    expect((await ctx.directory.get(personId))?.active).toBe(false);
    for (const m of ['freeze', 'revoke'] as const) {
      expect((await runMilestoneJob(ctx, { personId, version, milestone: m })).outcome).toBe('not_open');
    }
    // verify is an hour later: not due, not run.
    const record = await ctx.people.get(personId);
    expect(record?.milestones.find((m) => m.name === 'verify')?.state).toBe('scheduled');
    expect(await doneOrder(personId)).toEqual(['reduce', 'freeze', 'revoke']);
  });

  it('a failing milestone blocks neither a later one nor its own retries', async () => {
    const personId = 'term/failing-freeze';
    const version = await terminate(personId);
    const unreachable = { ...ctx, guard: { freeze: () => Promise.reject(new Error('gate unreachable')) } };
    // freeze's own job: reduce before it, revoke after it, then the job fails for freeze.
    await expect(runMilestoneJob(unreachable, { personId, version, milestone: 'freeze' })).rejects.toThrow(
      'gate unreachable',
    );
    expect((await ctx.directory.get(personId))?.active).toBe(false);
    expect(await doneOrder(personId)).toEqual(['reduce', 'revoke']);
    const freeze = (await ctx.people.get(personId))?.milestones.find((m) => m.name === 'freeze');
    expect(freeze?.state === 'scheduled' || freeze?.state === 'failed').toBe(true);
    expect(freeze?.lastError).toContain('gate unreachable');
    // Its job retries on its own backoff; the next open milestone has its job meanwhile.
    expect(await ctx.queues.milestones.getJobState(milestoneJobId(personId, version, 'verify'))).toBe(
      'delayed',
    );
    // Its retry succeeds once the hook does; nothing else runs twice.
    expect(await runMilestoneJob(ctx, { personId, version, milestone: 'freeze' })).toEqual({
      outcome: 'done',
      ran: ['freeze'],
    });
    expect(await doneOrder(personId)).toEqual(['reduce', 'revoke', 'freeze']);
  });
});
