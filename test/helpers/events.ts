/** HR event builders for tests. */
import type { Job } from 'bullmq';
import { DateTime } from 'luxon';

let counter = 0;

export interface EventOverrides {
  eventId?: string;
  type?: 'contract.ending' | 'contract.terminated' | 'offboarding.cancelled';
  occurredAt?: string;
  personId?: string;
  employment?: 'contractor' | 'employee';
  timezone?: string;
  lastDay?: string;
  endTime?: string;
  effectiveAt?: string;
  reason?: string;
}

export function hrEvent(o: EventOverrides = {}): Record<string, unknown> {
  counter++;
  const type = o.type ?? 'contract.ending';
  const personId = o.personId ?? 'c-1042';
  return {
    eventId: o.eventId ?? `ev-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    type,
    occurredAt: o.occurredAt ?? new Date().toISOString(),
    person: {
      id: personId,
      email: `${encodeURIComponent(personId).replace(/%/g, '')}@example.com`,
      name: 'Sam Contractor',
      employment: o.employment ?? 'contractor',
      timezone: o.timezone ?? 'America/Los_Angeles',
    },
    ...(type === 'contract.ending'
      ? { lastDay: o.lastDay ?? '2026-12-04' }
      : o.lastDay
        ? { lastDay: o.lastDay }
        : {}),
    ...(o.endTime ? { endTime: o.endTime } : {}),
    ...(o.effectiveAt ? { effectiveAt: o.effectiveAt } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
  };
}

/** `lastDay` and `endTime` such that the person's day ends `secondsAhead` from now in `zone`. */
export function endingSoon(secondsAhead: number, zone = 'Europe/Berlin', from = new Date()) {
  const end = DateTime.fromJSDate(from).setZone(zone).plus({ seconds: secondsAhead }).startOf('second');
  return {
    lastDay: end.toISODate()!,
    endTime: end.toFormat('HH:mm:ss'),
    timezone: zone,
    endsAt: end.toUTC(),
  };
}

/** An HR event as the hr-events job a processor receives (for calling the processor directly). */
export const asJob = (event: Record<string, unknown>) =>
  ({ data: event, name: event.type }) as unknown as Job;
