/**
 * The ops CLI against real Redis: every command is the real bin run as a child
 * process with `--json`, its output parsed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import type { Context } from '../../src/app/context.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { runCli } from '../helpers/cli.ts';
import { hrEvent } from '../helpers/events.ts';
import { testContext, testSettings } from '../helpers/lastday.ts';

const settings = testSettings();
const env = { LASTDAY_PREFIX: settings.env.LASTDAY_PREFIX };
let ctx: Context;
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  ctx = await testContext(settings);
  // Planned 20 minutes ago: its past-due notice has been actionable for longer
  // than the 15-minute overdue allowance (no worker runs here).
  const earlier = await testContext(settings, () => new Date(Date.now() - 20 * 60_000));
  await applyEvent(
    earlier,
    hrEvent({ personId: 'leaver:1', lastDay: inDays(3), timezone: 'Asia/Tokyo' }) as HrEvent,
  );
  await earlier.close();
  await applyEvent(ctx, hrEvent({ personId: 'later', lastDay: inDays(40) }) as HrEvent);
  await ctx.events.reject({
    at: new Date().toISOString(),
    source: 'cli',
    issues: [{ path: 'x', message: 'bad' }],
    event: {},
  });
});
afterAll(async () => {
  await ctx?.close();
});

const json = async (args: string[], expectedCode = 0) => {
  const r = await runCli([...args, '--json'], env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(expectedCode);
  return JSON.parse(r.stdout);
};

describe('lastday CLI', () => {
  // Each command is a fresh Node process compiling TypeScript: slow on a busy machine.
  it('status, upcoming, queues, audit, evidence, rejected, run', { timeout: 180_000 }, async () => {
    const [status, upcoming, queues, audit, verify, evidence, rejected, reconcile, overdue] =
      await Promise.all([
        json(['status', 'leaver:1']),
        json(['upcoming', '--days', '7']),
        json(['queues']),
        json(['audit', '--person', 'leaver:1']),
        json(['audit', '--verify']),
        json(['evidence', 'leaver:1']),
        json(['rejected']),
        json(['run', 'reconcile']),
        // Exit 3: no worker runs here, so the past-due notice is overdue.
        json(['run', 'overdue'], 3),
      ]);
    expect(status).toMatchObject({ personId: 'leaver:1', status: 'scheduled', timezone: 'Asia/Tokyo' });
    expect(status.milestones).toHaveLength(5);

    expect(upcoming.count).toBe(1);
    expect(upcoming.people[0]).toMatchObject({ personId: 'leaver:1', next: { name: expect.any(String) } });

    const milestones = queues.queues.find((q: { name: string }) => q.name === 'milestones');
    expect(milestones.counts.delayed + milestones.counts.waiting).toBeGreaterThanOrEqual(8);
    expect(milestones.nextDelayed).toMatchObject({ at: expect.stringMatching(/Z$/) });

    expect(audit.entries.map((e: { type: string }) => e.type)).toContain('hr_event.applied');
    expect(verify).toMatchObject({ ok: true });

    expect(evidence.person.id).toBe('leaver:1');
    expect(evidence.controls.map((c: { control: string }) => c.control)).toEqual([
      'SOC 2 CC6.2',
      'FedRAMP PS-4',
      'PCI DSS 8.2.5',
    ]);
    expect(evidence.audit.chainOk).toBe(true);

    expect(rejected.count).toBe(1);
    expect(reconcile.result).toMatchObject({ scanned: 2, open: 2, rescheduled: 0, errors: 0 });
    expect(overdue.result.count).toBeGreaterThanOrEqual(1);
    expect(overdue.result.overdue[0]).toMatchObject({ personId: 'leaver:1', milestone: 'notice' });
  });

  it('prints Markdown evidence, and exits non-zero where it should', { timeout: 120_000 }, async () => {
    const md = await runCli(['evidence', 'leaver:1', '--format', 'md'], env);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('# Offboarding evidence: ');
    expect(md.stdout).toContain('| FedRAMP PS-4 |');
    expect((await runCli(['status', 'nobody', '--json'], env)).code).toBe(4);
    expect((await runCli(['run', 'nonsense'], env)).code).toBe(1);
    const human = await runCli(['upcoming', '--days', '60'], env);
    expect(human.stdout).toContain('later');
  });
});
