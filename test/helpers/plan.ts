/**
 * The plan the unit tests of the person state machine start from, with a
 * pinned `now`: c-1042, an LA contractor whose last day is Fri 2026-12-04,
 * first applied at T0 (2026-11-20) under the default policy; and people
 * planned now, for tests on a real store.
 */
import { DateTime } from 'luxon';
import { type HrEvent, hrEventSchema } from '../../src/domain/hrEvent.ts';
import type { MilestoneName } from '../../src/domain/milestone.ts';
import { type ApplyResult, applyHrEvent, type PersonRecord } from '../../src/domain/person.ts';
import { defaultPolicy } from '../../src/domain/policy.ts';
import { type EventOverrides, hrEvent } from './events.ts';

export const T0 = '2026-11-20T15:00:00Z';

export function ev(o: EventOverrides = {}): HrEvent {
  return hrEventSchema.parse(hrEvent({ personId: 'c-1042', occurredAt: T0, ...o }));
}

export function at(iso: string): DateTime {
  return DateTime.fromISO(iso, { zone: 'utc' });
}

export function applied(result: ApplyResult) {
  if (result.outcome !== 'applied')
    throw new Error(`expected applied, got ${result.outcome}: ${result.reason}`);
  return result;
}

/** The record after `event` is applied at `iso` under the default policy (the test fails unless it applies). */
export function applyAt(record: PersonRecord | undefined, event: HrEvent, iso: string): PersonRecord {
  return applied(applyHrEvent(record, event, defaultPolicy, at(iso))).record;
}

/** A plan for c-1042 (LA contractor, lastDay Fri 2026-12-04), as first applied on 2026-11-20. */
export function planned(): PersonRecord {
  return applyAt(undefined, ev({ eventId: 'first' }), T0);
}

/** What the milestone worker does: marks milestones done at their due time. */
export function markDone(record: PersonRecord, names: MilestoneName[]): PersonRecord {
  return {
    ...record,
    milestones: record.milestones.map((m) =>
      names.includes(m.name) ? { ...m, state: 'done', doneAt: m.dueAt } : m,
    ),
  };
}

/** `id`, a contractor in UTC whose last day is 45 days ahead, planned now under the default policy. */
export function plannedNow(id: string): PersonRecord {
  const now = DateTime.utc();
  const event: HrEvent = {
    eventId: `ev-${id}`,
    type: 'contract.ending',
    occurredAt: now.toISO(),
    person: { id, email: `${id}@example.com`, employment: 'contractor', timezone: 'UTC' },
    lastDay: now.plus({ days: 45 }).toISODate()!,
  };
  return applied(applyHrEvent(undefined, event, defaultPolicy, now)).record;
}
