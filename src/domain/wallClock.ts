/**
 * Local wall-clock values: calendar dates (`YYYY-MM-DD`), times of day
 * (`HH:mm[:ss]`) and IANA zone names, validated strictly.
 */
import { IANAZone } from 'luxon';
import { z } from 'zod';

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/**
 * A real date of the proleptic Gregorian calendar, as luxon reads one (checked
 * against it for years 0000–0129 and around every century rule); plain
 * arithmetic because every HR event is validated with it and parsing it with
 * luxon was a fifth of validating and planning one.
 */
export function isCalendarDate(value: string): boolean {
  if (!DATE_RE.test(value)) return false;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Zone ids that ICU (and so Intl and luxon) accepts but the IANA database does
 * not have: Java's three-letter ids and the `SystemV/` family. `PST` or `IST`
 * look like zones but are ambiguous abbreviations; the contract takes IANA only.
 */
const ICU_ONLY_ZONES = new Set(
  'ACT AET AGT ART AST BET BST CAT CNT CST CTT EAT ECT IET IST JST MIT NET NST PLT PNT PRT PST SST VST'.split(
    ' ',
  ),
);

/**
 * Zone names already found valid. Luxon's check builds an Intl.DateTimeFormat on
 * every call (~0.2 ms, the largest single cost of validating an HR event in
 * `npm run bench`); only valid names are kept, so the set is bounded by the
 * IANA database however much junk arrives.
 */
const validZones = new Set<string>();

/** A real IANA zone name (`Europe/Berlin`); fixed offsets such as `+02:00` are refused. */
export function isIanaZone(value: string): boolean {
  if (validZones.has(value)) return true;
  const upper = value.toUpperCase();
  if (ICU_ONLY_ZONES.has(upper) || upper.startsWith('SYSTEMV/')) return false;
  const valid = IANAZone.isValidZone(value);
  if (valid) validZones.add(value);
  return valid;
}

export interface TimeOfDay {
  hour: number;
  minute: number;
  second: number;
}

export function parseTimeOfDay(value: string): TimeOfDay {
  const m = TIME_RE.exec(value);
  if (!m) throw new Error(`not a time of day: ${value}`);
  return { hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3] ?? 0) };
}

export const calendarDate = z
  .string()
  .refine(isCalendarDate, { message: 'expected a real calendar date as YYYY-MM-DD' });

export const timeOfDay = z.string().regex(TIME_RE, { message: 'expected a time as HH:mm or HH:mm:ss' });

export const ianaZone = z
  .string()
  .refine(isIanaZone, { message: 'expected an IANA time zone such as Europe/Berlin' });
