/** When a cron counts as late: measured in its own ticks, from its last run or from when watching began. */
import { describe, expect, it } from 'vitest';
import { cronLateness, nthTickAfter } from '../../src/domain/cronLateness.ts';

const at = (iso: string) => new Date(iso);

describe('cronLateness', () => {
  const everyMinute = { pattern: '* * * * *', tz: 'UTC' };

  it('is late once three ticks passed since the last run started', () => {
    const last = at('2026-03-02T10:00:00.200Z');
    const since = at('2026-03-01T00:00:00Z');
    expect(cronLateness(everyMinute, last, since, at('2026-03-02T10:03:00.000Z')).late).toBe(false);
    const late = cronLateness(everyMinute, last, since, at('2026-03-02T10:03:00.001Z'));
    expect(late).toEqual({ late: true, deadline: at('2026-03-02T10:03:00.000Z') });
    expect(cronLateness(everyMinute, last, since, at('2026-03-02T10:04:00Z'), 5).late).toBe(false);
  });

  it('measures from when watching began when that is later (lastday was down) or there is no run', () => {
    const since = at('2026-03-02T10:00:30Z');
    const monthOld = at('2026-02-01T00:00:00Z');
    expect(cronLateness(everyMinute, monthOld, since, at('2026-03-02T10:02:59Z')).late).toBe(false);
    expect(cronLateness(everyMinute, undefined, since, at('2026-03-02T10:02:59Z')).late).toBe(false);
    expect(cronLateness(everyMinute, undefined, since, at('2026-03-02T10:03:01Z')).late).toBe(true);
  });

  it('follows irregular patterns and zones: a weekday cron is not late over the weekend', () => {
    const weekdays = { pattern: '0 9 * * 1-5', tz: 'Europe/Berlin' };
    const friday = at('2026-11-27T08:00:00.100Z'); // Fri 09:00 Berlin
    const since = at('2026-11-01T00:00:00Z');
    expect(nthTickAfter(weekdays, friday, 1)).toEqual(at('2026-11-30T08:00:00Z')); // Monday
    expect(cronLateness(weekdays, friday, since, at('2026-12-01T12:00:00Z')).late).toBe(false); // Tuesday
    expect(cronLateness(weekdays, friday, since, at('2026-12-02T08:00:01Z')).late).toBe(true); // Wednesday
  });

  it('counts ticks across a DST change in the pattern zone', () => {
    const daily = { pattern: '30 2 * * *', tz: 'Europe/Berlin' }; // 02:30 does not exist on 2026-03-29
    const ticks = [1, 2, 3].map((n) => nthTickAfter(daily, at('2026-03-27T12:00:00Z'), n).toISOString());
    expect(ticks[0]).toBe('2026-03-28T01:30:00.000Z');
    expect(ticks[2]).toBe('2026-03-30T00:30:00.000Z');
    expect(new Set(ticks).size).toBe(3);
  });
});
