/**
 * Roster sync against a roster file: additions, changes and removals become HR
 * events; a plan that came by webhook is never cancelled by the roster; the
 * same roster twice submits nothing new.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { rosterSync } from '../../jobs/ops/rosterSync.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { hrEvent } from '../helpers/events.ts';
import { eventually, testRuntime, testSettings } from '../helpers/lastday.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastday-roster-'));
let rt: Runtime;

beforeAll(async () => {
  rt = await testRuntime(testSettings(), { roles: ['worker'] });
});
afterAll(async () => {
  await rt?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function writeRoster(name: string, content: string, mtime: Date): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  utimesSync(path, mtime, mtime);
  return path;
}

const row = (id: string, lastDay: string, extra: Record<string, string> = {}) => ({
  id,
  employment: 'contractor',
  timezone: 'America/New_York',
  lastDay,
  ...extra,
});

describe('roster sync', () => {
  it('applies additions, changes and removals from a roster file, idempotently', async () => {
    const ctx = rt.ctx;
    const config = (source: string) => ({
      ...ctx.settings.config.crons.rosterSync,
      source,
      cancelRemoved: true,
    });
    const t1 = new Date(Date.now() - 60_000);
    const v1 = writeRoster(
      'v1.json',
      JSON.stringify([row('x', '2027-02-01'), row('y', '2027-02-02'), row('z', '2027-02-03'), { id: 'bad' }]),
      t1,
    );
    const first = await rosterSync(ctx, config(v1));
    expect(first).toMatchObject({ rows: 4, added: 3, changed: 0, removed: [], submitted: { accepted: 3 } });
    expect(first.invalid).toHaveLength(1);
    await eventually(async () => (await ctx.people.getMany(['x', 'y', 'z'])).length === 3);

    // w came by webhook: the roster does not list it and must not cancel it.
    await applyEvent(ctx, hrEvent({ personId: 'w', lastDay: '2027-02-05' }) as HrEvent);

    // v2, as CSV: x unchanged, y moved, z gone, n new.
    const t2 = new Date(Date.now() - 30_000);
    const v2 = writeRoster(
      'v2.csv',
      [
        'id,employment,timezone,lastDay,endTime,department',
        'x,contractor,America/New_York,2027-02-01,,Eng',
        'y,contractor,America/New_York,2027-02-10,12:30,"Sales, West"',
        'n,employee,Europe/Paris,2027-03-01,,Ops',
      ].join('\n'),
      t2,
    );
    const second = await rosterSync(ctx, config(v2));
    expect(second).toMatchObject({
      rows: 3,
      added: 1,
      changed: 1,
      removed: ['z'],
      removalsApplied: true,
      submitted: { accepted: 3, duplicate: 0, rejected: 0 },
    });
    await eventually(async () => {
      const [y, z, n] = await Promise.all(['y', 'z', 'n'].map((id) => ctx.people.get(id)));
      return (
        y?.lastDay === '2027-02-10' && y.endTime === '12:30' && z?.cancelled && n?.lastDay === '2027-03-01'
      );
    });
    expect((await ctx.people.get('w'))?.cancelled).toBe(false);
    expect((await ctx.people.get('x'))?.planVersion).toBe(1);

    // The same roster again: nothing differs, nothing is submitted.
    const third = await rosterSync(ctx, config(v2));
    expect(third).toMatchObject({
      added: 0,
      changed: 0,
      removed: [],
      submitted: { accepted: 0, duplicate: 0 },
    });
  });

  it('refuses to cancel more than maxRemovals at once (a truncated roster) and alerts', async () => {
    const ctx = rt.ctx;
    const empty = writeRoster('empty.json', '[]', new Date());
    const result = await rosterSync(ctx, {
      ...ctx.settings.config.crons.rosterSync,
      source: empty,
      cancelRemoved: true,
      maxRemovals: 1,
    });
    expect(result.removed.sort()).toEqual(['n', 'x', 'y']);
    expect(result.removalsApplied).toBe(false);
    expect(result.submitted.accepted).toBe(0);
    const alerts = await ctx.audit.list({});
    expect(alerts.some((e) => e.type === 'alert.roster_removals_refused')).toBe(true);
  });
});
