/**
 * Policy scopes end to end on real Redis and workers: signed HR events with
 * `person.country` / `person.department` over HTTP are planned under the
 * scope that matches (explicit holidays, a country calendar, a 16:00 end, five
 * business days of reduce), `GET /v1/people/:id` names the scope, and a
 * roster with a `country` column plans the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rosterSync } from '../../jobs/ops/rosterSync.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { api, postEvent } from '../helpers/http.ts';
import { bearer, eventually, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastday-scopes-'));
let rt: Runtime;

// Monday 30 December 2030: far enough ahead that no milestone runs during the test.
const LAST_DAY = '2030-12-30';
const POLICY = {
  holidays: ['2030-12-25'],
  scopes: [
    {
      name: 'germany',
      match: { country: 'DE' },
      holidays: ['2030-12-24', '2030-12-26'],
      defaultEndTime: '16:00',
    },
    {
      name: 'austria-finance',
      match: { country: 'AT', department: 'Finance', employment: 'contractor' },
      holidayCalendar: 'AT',
      reduce: { contractorBusinessDays: 5 },
    },
  ],
};

beforeAll(async () => {
  rt = await testRuntime(testSettings({ policy: POLICY }));
});
afterAll(async () => {
  await rt?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function event(personId: string, person: Record<string, unknown>) {
  return {
    eventId: `scope-${personId}-${Math.random().toString(36).slice(2)}`,
    type: 'contract.ending',
    occurredAt: new Date().toISOString(),
    person: { id: personId, employment: 'employee', timezone: 'Europe/Berlin', ...person },
    lastDay: LAST_DAY,
  };
}

async function planOf(personId: string) {
  const res = await eventually(async () => {
    const r = await api(
      rt.url!,
      'GET',
      `/v1/people/${encodeURIComponent(personId)}`,
      undefined,
      bearer(TOKENS.viewer),
    );
    return r.status === 200 && r.body;
  });
  return {
    policy: res.policy as string,
    endTime: res.endTime as string,
    due: Object.fromEntries(
      (res.milestones as { name: string; dueAt: string }[]).map((m) => [m.name, m.dueAt]),
    ),
  };
}

describe('policy scopes over HTTP', () => {
  it('plans each person under the first matching scope and names it', async () => {
    for (const [id, person] of [
      ['de-1', { country: 'DE' }],
      ['at-fin-1', { country: 'AT', department: 'Finance', employment: 'contractor' }],
      ['at-sales-1', { country: 'AT', department: 'Sales', employment: 'contractor' }],
    ] as const) {
      expect((await postEvent(rt.url!, event(id, person))).status).toBe(202);
    }

    expect(await planOf('de-1')).toEqual({
      policy: 'germany',
      endTime: '16:00',
      due: {
        notice: '2030-12-19T08:00:00Z', // 27, 25 (not a germany holiday), 23, 20, 19
        reduce: '2030-12-27T08:00:00Z',
        freeze: '2030-12-29T23:00:00Z',
        revoke: '2030-12-30T15:00:00Z',
        verify: '2030-12-30T16:00:00Z',
      },
    });
    // Austria's public holidays (25, 26 December) and the base's 25 December; five business days.
    expect((await planOf('at-fin-1')).due.reduce).toBe('2030-12-19T08:00:00Z');
    expect((await planOf('at-fin-1')).policy).toBe('austria-finance');
    const sales = await planOf('at-sales-1');
    expect(sales.policy).toBe('default');
    expect(sales.due.reduce).toBe('2030-12-26T08:00:00Z'); // 27, 26: 2 business days, 25 off
    expect(sales.due.revoke).toBe('2030-12-30T16:00:00Z');
  });

  it('an invalid country is rejected with the field named, and kept as rejected', async () => {
    const res = await postEvent(rt.url!, event('bad-country', { country: 'Germany' }));
    expect(res.status).toBe(400);
    expect(res.body.error.issues).toEqual([
      { path: 'person.country', message: expect.stringMatching(/ISO 3166-1 alpha-2/) },
    ]);
  });

  it('a roster with a country column plans under the scope, following its default end time', async () => {
    const path = join(dir, 'roster.csv');
    writeFileSync(
      path,
      ['id,employment,timezone,lastDay,endTime,country', `ro-de,employee,Europe/Berlin,${LAST_DAY},,DE`].join(
        '\n',
      ),
    );
    const config = { ...rt.ctx.settings.config.crons.rosterSync, source: path };
    const first = await rosterSync(rt.ctx, config);
    expect(first).toMatchObject({ added: 1, submitted: { accepted: 1 } });
    const plan = await planOf('ro-de');
    expect(plan).toMatchObject({ policy: 'germany', endTime: '16:00' });
    expect(plan.due.revoke).toBe('2030-12-30T15:00:00Z');
    const record = await rt.ctx.people.get('ro-de');
    expect(record?.endTimeDefaulted).toBe(true);
    // The same roster again: the 16:00 plan is what it wants; nothing is sent.
    expect(await rosterSync(rt.ctx, config)).toMatchObject({ added: 0, changed: 0 });
  });
});
