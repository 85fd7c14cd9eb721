/**
 * How the console writes times and durations for people: every instant in the
 * person's own zone and in UTC, weeks for grouping, lateness in words. Pure
 * (luxon only), so the pages and the tests agree on one spelling.
 */
import { DateTime, Duration } from 'luxon';

export interface TwoClocks {
  /** `Fri 4 Dec 2026, 17:00 PST` in the person's zone. */
  local: string;
  /** `2026-12-05 01:00 UTC`. */
  utc: string;
  /** The instant as ISO-8601 UTC, for `<time datetime>`. */
  iso: string;
}

export function twoClocks(isoUtc: string, zone: string): TwoClocks {
  const dt = DateTime.fromISO(isoUtc, { zone: 'utc' });
  const local = dt.setZone(zone);
  return {
    local: (local.isValid ? local : dt).toFormat('ccc d LLL yyyy, HH:mm ZZZZ'),
    utc: dt.toFormat("yyyy-LL-dd HH:mm 'UTC'"),
    iso: dt.toISO({ suppressMilliseconds: true }) ?? isoUtc,
  };
}

/** An instant in UTC only (audit entries, rejected events). */
export function utcText(isoUtc: string): string {
  const dt = DateTime.fromISO(isoUtc, { zone: 'utc' });
  return dt.isValid ? dt.toFormat("yyyy-LL-dd HH:mm:ss 'UTC'") : isoUtc;
}

/** The ISO week (Monday first, in UTC) an instant falls in: a key and a heading. */
export function weekOf(isoUtc: string): { key: string; label: string } {
  const start = DateTime.fromISO(isoUtc, { zone: 'utc' }).startOf('week');
  const end = start.plus({ days: 6 });
  return {
    key: start.toISODate() ?? isoUtc,
    label: `Week ${start.weekNumber}: ${start.toFormat('ccc d LLL')} – ${end.toFormat('ccc d LLL yyyy')}`,
  };
}

/** `2 h 5 min`, `3 d 4 h`, `45 s`: a positive duration, two units at most. */
export function durationText(ms: number): string {
  const d = Duration.fromMillis(Math.abs(ms)).shiftTo('days', 'hours', 'minutes', 'seconds');
  const parts: string[] = [];
  if (d.days) parts.push(`${d.days} d`);
  if (d.hours) parts.push(`${d.hours} h`);
  if (d.minutes) parts.push(`${d.minutes} min`);
  if (parts.length === 0) parts.push(`${Math.round(d.seconds)} s`);
  return parts.slice(0, 2).join(' ');
}

/** Up to this late, a milestone counts as on time (jobs start within seconds). */
const ON_TIME_MS = 60_000;

/**
 * A milestone's lateness in words: done ones by `doneAt` against when lastday
 * could act (`actionableAt`, else `dueAt`), open ones against `now`.
 */
export function lateness(
  m: { state: string; dueAt: string; actionableAt?: string; doneAt?: string },
  nowMs: number,
): { text: string; late: boolean } {
  const from = Date.parse(m.actionableAt ?? m.dueAt);
  if (m.state === 'done' && m.doneAt) {
    const late = Date.parse(m.doneAt) - from;
    return late > ON_TIME_MS
      ? { text: `${durationText(late)} late`, late: true }
      : { text: 'on time', late: false };
  }
  if (m.state === 'scheduled') {
    return nowMs > from + ON_TIME_MS
      ? { text: `overdue by ${durationText(nowMs - from)}`, late: true }
      : { text: `in ${durationText(from - nowMs)}`, late: false };
  }
  return { text: m.state, late: m.state === 'failed' };
}
