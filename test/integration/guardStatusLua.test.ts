/**
 * The guard status computed in Lua (src/store/lua/guardStatus.ts, used by the
 * gate's read and the registration script) agrees with the domain's
 * `guardStatus` on every combination of what it reads: done milestones,
 * cancellation, a required or granted reinstatement (same cycle or an earlier
 * one), and the freeze mark (none, this plan version, another one) — for
 * the record stored in either shape (src/store/personCodec.ts: compact, or
 * the plain JSON earlier versions wrote).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { guardStatus } from '../../src/domain/action.ts';
import { MILESTONES, type MilestoneName } from '../../src/domain/milestone.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import { GUARD_STATUS_LUA } from '../../src/store/lua/guardStatus.ts';
import { encodePerson } from '../../src/store/personCodec.ts';

const redis = new Redis(inject('redisUrl'));
afterAll(() => redis.disconnect());

const SCRIPT = `${GUARD_STATUS_LUA}
local person, mark = ARGV[1], ARGV[2]
if person == '' then person = false end
if mark == '' then mark = false end
return guard_status(person, mark)`;

function record(
  done: readonly MilestoneName[],
  o: {
    cancelled: boolean;
    reinstatementRequired: boolean;
    reinstatedCycle: number | undefined;
    cycle: number;
  },
): PersonRecord {
  const at = '2026-06-01T12:00:00.000Z';
  return {
    person: { personId: 'p', name: 'P' },
    kind: 'ending',
    lastDay: '2026-06-30',
    endTime: '17:00',
    endsAt: at,
    cancelled: o.cancelled,
    reinstatementRequired: o.reinstatementRequired,
    ...(o.reinstatedCycle !== undefined
      ? { reinstatement: { actionId: 'a', approvedBy: 'x', at, cycle: o.reinstatedCycle } }
      : {}),
    cycle: o.cycle,
    planVersion: 7,
    milestones: MILESTONES.map((name) => ({
      name,
      dueAt: at,
      state: done.includes(name) ? 'done' : 'scheduled',
    })),
    lastEvent: { eventId: 'e', type: 'contract.ending', occurredAt: at },
    createdAt: at,
    updatedAt: at,
    rev: 3,
  } as unknown as PersonRecord;
}

describe('guard status in Lua', () => {
  it.each([
    ['compact', encodePerson],
    ['plain JSON (earlier versions)', (r: PersonRecord) => JSON.stringify(r)],
  ])('matches guardStatus on every combination, stored %s', async (_shape, store) => {
    const cases: { record: PersonRecord | undefined; mark: string | null }[] = [];
    const marks = [null, '7', '6'];
    for (const mark of marks) cases.push({ record: undefined, mark });
    for (let bits = 0; bits < 8; bits++) {
      const done = (['reduce', 'freeze', 'revoke'] as const).filter((_, i) => bits & (1 << i));
      for (const cancelled of [false, true])
        for (const reinstatementRequired of [false, true])
          for (const reinstatedCycle of [undefined, 2, 1])
            // Cycle 1 is the one the compact shape leaves out.
            for (const cycle of [2, 1])
              for (const mark of marks)
                cases.push({
                  record: record(done, { cancelled, reinstatementRequired, reinstatedCycle, cycle }),
                  mark,
                });
    }
    const pipeline = redis.pipeline();
    for (const c of cases) {
      pipeline.eval(SCRIPT, 0, c.record ? store(c.record) : '', c.mark ?? '');
    }
    const replies = ((await pipeline.exec()) ?? []).map(([err, v]) => (err ? String(err) : v));
    const expected = cases.map((c) => guardStatus(c.record, c.mark));
    expect(replies).toEqual(expected);
    // Every status is reached, so the comparison covers each branch.
    expect(new Set(expected)).toEqual(new Set(['active', 'scheduled', 'reduced', 'frozen', 'revoked']));
  });
});
