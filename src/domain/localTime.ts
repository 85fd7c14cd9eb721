/**
 * Turns a local wall-clock time in an IANA zone into one absolute instant.
 *
 * Two DST cases are the normal case, not the edge case:
 * - a time in a spring-forward gap (02:30 on the night clocks jump 02:00→03:00)
 *   does not exist; it moves forward by the gap (→ 03:30 new time);
 * - a time in a fall-back overlap (01:30 on the night clocks go 02:00→01:00)
 *   exists twice; the earlier instant is taken, so access goes no later than
 *   anyone could read the wall clock.
 * Luxon alone moves gaps forward but picks the *later* instant of an overlap,
 * so the choice is made here explicitly.
 */
import { DateTime, IANAZone } from 'luxon';
import { parseTimeOfDay } from './wallClock.ts';

const HOUR_MS = 3_600_000;

/**
 * The instant at which the wall clock in `zone` shows `date` `time`.
 * @param date `YYYY-MM-DD`
 * @param time `HH:mm` or `HH:mm:ss`
 */
export function localToInstant(date: string, time: string, zone: string): DateTime {
  // Pure and asked again and again for the same few dates and zones (every
  // planned event makes four calls, each reading zone offsets through Intl):
  // remembered, within a bound. DateTimes are immutable, so sharing one is safe.
  const key = `${zone}|${date}|${time}`;
  const known = remembered.get(key);
  if (known) return known;
  const instant = computeInstant(date, time, zone);
  if (remembered.size >= REMEMBER_MAX) remembered.clear();
  remembered.set(key, instant);
  return instant;
}

const REMEMBER_MAX = 10_000;
const remembered = new Map<string, DateTime>();

function computeInstant(date: string, time: string, zone: string): DateTime {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = parseTimeOfDay(time);
  // The wall time read as if it were UTC: subtracting an offset gives an instant.
  const wallMs = Date.UTC(y, m - 1, d, t.hour, t.minute, t.second);
  const tz = IANAZone.create(zone);
  if (!tz.isValid) throw new Error(`unknown time zone: ${zone}`);
  // Offsets in force a day and a half either side bracket any single transition.
  const before = tz.offset(wallMs - 36 * HOUR_MS);
  const after = tz.offset(wallMs + 36 * HOUR_MS);
  const candidates = [...new Set([before, after])]
    .map((offsetMin) => ({ offsetMin, ms: wallMs - offsetMin * 60_000 }))
    .filter((c) => tz.offset(c.ms) === c.offsetMin)
    .sort((a, b) => a.ms - b.ms);
  // Overlap: two candidates, take the earlier. Gap: none; reading the wall time
  // with the offset in force before the jump lands that far past the jump.
  const ms = candidates[0]?.ms ?? wallMs - before * 60_000;
  return DateTime.fromMillis(ms, { zone: 'utc' });
}
