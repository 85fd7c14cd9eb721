/**
 * How a PersonRecord is stored: a compact JSON document (about a third of the
 * plain JSON's size), decoded back to exactly the record that was encoded.
 * The domain type is unchanged; only the store knows this shape.
 *
 * Shape 2 (marked `"$":2`):
 * - field names shortened (FIELDS below; the person's and the reinstatement's
 *   too), values that equal their default left out (`cancelled` false, `cycle` 1…);
 * - instants as epoch milliseconds when the number gives back the same text
 *   (`toIsoUtc`'s form: milliseconds suppressed when zero), else the string;
 * - enumerations (kind, employment, event type, milestone name and state) as
 *   their index; `policyScope` left out when `default`, `0` when absent;
 * - `endsAt` left out when it is the `revoke` milestone's `dueAt`, `updatedAt`
 *   when it is `createdAt`;
 * - a milestone as `[name index, dueAt, state code?, {other fields}?]`;
 * - `lastEvent` as `[eventId, type index, occurredAt]`;
 * - a field this codec does not know (one added to the record later) kept
 *   under its own name in `"+"`, so it round-trips before it gets a short name.
 *
 * Records stored before (plain JSON of the record, no `"$"`) decode as they
 * are. Lua reads the stored person too (lua/guardStatus.ts, the save script's
 * revision check): it must follow any change to this shape.
 */
import { HR_EVENT_TYPES, type PersonInfo } from '../domain/hrEvent.ts';
import { MILESTONES, type Milestone, type MilestoneState } from '../domain/milestone.ts';
import type { PersonRecord } from '../domain/person.ts';
import { DEFAULT_SCOPE } from '../domain/policyScope.ts';

/** The shape marker's value; Lua checks `r['$'] == 2`. */
export const PERSON_SHAPE = 2;

type Json = unknown;
type Fields = Readonly<Record<string, string>>;

/** Top-level fields: record name → stored name. Short names must stay unique and never be `$` or `+`. */
const FIELDS: Fields = {
  person: 'p',
  kind: 'k',
  lastDay: 'ld',
  endTime: 'et',
  endTimeDefaulted: 'td',
  policyScope: 'ps',
  policyHash: 'ph',
  endsAt: 'ea',
  cancelled: 'x',
  reinstatementRequired: 'rr',
  reinstatement: 'ri',
  cycle: 'c',
  planVersion: 'v',
  milestones: 'ms',
  lastEvent: 'le',
  createdAt: 'ca',
  updatedAt: 'ua',
  rev: 'r',
  // Fields the worker's own event marks are moving into (issue #10 item 4),
  // named here ahead of time; absent fields cost nothing.
  recentEvents: 're',
  legacyEventMarks: 'lm',
};
const PERSON_FIELDS: Fields = {
  id: 'i',
  email: 'e',
  name: 'n',
  employment: 'm',
  timezone: 'z',
  department: 'd',
  country: 'o',
  manager: 'g',
};
const REINSTATEMENT_FIELDS: Fields = {
  actionId: 'a',
  requestedBy: 'q',
  approvedBy: 'b',
  reason: 's',
  at: 't',
  cycle: 'c',
};
/** A milestone's fields beyond name, dueAt and state (its fourth element). */
const MILESTONE_FIELDS: Fields = {
  actionableAt: 'a',
  doneAt: 't',
  lastError: 'e',
  failedAt: 'f',
  alertedAt: 'l',
};
const INSTANT_FIELDS = new Set(['at', 'actionableAt', 'doneAt', 'failedAt', 'alertedAt']);
/** Milestone state codes; `scheduled` (0) is left out when nothing follows it. */
export const MILESTONE_STATE_CODES: readonly MilestoneState[] = ['scheduled', 'done', 'cancelled', 'failed'];
const STATES = MILESTONE_STATE_CODES;
const KINDS: readonly PersonRecord['kind'][] = ['ending', 'terminated', 'none'];
const EMPLOYMENTS: readonly PersonInfo['employment'][] = ['contractor', 'employee'];

/** The stored text of a record. */
export function encodePerson(record: PersonRecord): string {
  const r = record as unknown as Record<string, Json>;
  const out: Record<string, Json> = { $: PERSON_SHAPE };
  const rest: Record<string, Json> = {};
  const revoke = record.milestones.find((m) => m.name === 'revoke');
  for (const name of Object.keys(r)) {
    const value = r[name];
    const short = FIELDS[name];
    if (short === undefined) {
      rest[name] = value;
      continue;
    }
    const packed = packField(name, value, record, revoke);
    if (packed !== OMIT) out[short] = packed;
  }
  // `default` is left out (the common case), so a record without a scope says so.
  if (!('policyScope' in r)) out[FIELDS.policyScope!] = 0;
  if (Object.keys(rest).length > 0) out['+'] = rest;
  return JSON.stringify(out);
}

/** The record of a stored text, in either shape (compact, or the plain JSON of earlier versions). */
export function decodePerson(text: string): PersonRecord {
  const stored = JSON.parse(text) as Record<string, Json>;
  if (stored.$ !== PERSON_SHAPE) return stored as unknown as PersonRecord;
  const out: Record<string, Json> = {};
  for (const [name, short] of Object.entries(FIELDS)) {
    const value = unpackField(name, stored[short], stored);
    if (value !== undefined) out[name] = value;
  }
  return { ...out, ...(stored['+'] as Record<string, Json> | undefined) } as unknown as PersonRecord;
}

const OMIT = Symbol('omit');

function packField(
  name: string,
  value: Json,
  record: PersonRecord,
  revoke: Milestone | undefined,
): Json | typeof OMIT {
  switch (name) {
    case 'person': {
      const person = packObject(value, PERSON_FIELDS);
      if (isPlainObject(person)) person.m = codeOf(EMPLOYMENTS, person.m);
      return person;
    }
    case 'kind':
      return codeOf(KINDS, value);
    case 'lastDay':
    case 'endTime':
      return value === null ? OMIT : value;
    case 'policyScope':
      return value === DEFAULT_SCOPE ? OMIT : value;
    case 'endsAt':
      return revoke !== undefined && value === revoke.dueAt ? OMIT : packInstant(value);
    case 'cancelled':
    case 'reinstatementRequired':
      return value === false ? OMIT : value;
    case 'endTimeDefaulted':
      return value === true ? 1 : value;
    case 'reinstatement':
      return packObject(value, REINSTATEMENT_FIELDS);
    case 'cycle':
      return value === 1 ? OMIT : value;
    case 'milestones':
      return Array.isArray(value) ? value.map(packMilestone) : value;
    case 'lastEvent':
      return packLastEvent(value);
    case 'createdAt':
      return packInstant(value);
    case 'updatedAt':
      return value === record.createdAt ? OMIT : packInstant(value);
    default:
      return value;
  }
}

function unpackField(name: string, value: Json, stored: Record<string, Json>): Json {
  switch (name) {
    case 'person': {
      const person = unpackObject(value, PERSON_FIELDS);
      if (isPlainObject(person) && person.employment !== undefined) {
        person.employment = fromCode(EMPLOYMENTS, person.employment);
      }
      return person;
    }
    case 'kind':
      return fromCode(KINDS, value);
    case 'lastDay':
    case 'endTime':
      return value === undefined ? null : value;
    case 'policyScope':
      return value === undefined ? DEFAULT_SCOPE : value === 0 ? undefined : value;
    case 'endsAt':
      if (value !== undefined) return unpackInstant(value);
      return unpackMilestoneDue(stored[FIELDS.milestones!], 'revoke') ?? null;
    case 'cancelled':
    case 'reinstatementRequired':
      return value ?? false;
    case 'endTimeDefaulted':
      return value === 1 ? true : value;
    case 'reinstatement':
      return unpackObject(value, REINSTATEMENT_FIELDS);
    case 'cycle':
      return value ?? 1;
    case 'milestones':
      return Array.isArray(value) ? value.map(unpackMilestone) : value;
    case 'lastEvent':
      return unpackLastEvent(value);
    case 'createdAt':
      return unpackInstant(value);
    case 'updatedAt':
      return value === undefined ? unpackInstant(stored[FIELDS.createdAt!]) : unpackInstant(value);
    default:
      return value;
  }
}

/** A milestone's own fields, which packMilestone stores by position rather than by name. */
const MILESTONE_POSITIONAL: ReadonlySet<string> = new Set(['name', 'dueAt', 'state']);

function packMilestone(m: Json): Json {
  if (!isPlainObject(m)) return m;
  const index = MILESTONES.indexOf(m.name as Milestone['name']);
  const stateCode = STATES.indexOf(m.state as MilestoneState);
  // An unknown name or state (not a Milestone): kept whole, as an object.
  if (index < 0 || stateCode < 0 || typeof m.dueAt !== 'string') return m;
  const extra = packObject(m, MILESTONE_FIELDS, MILESTONE_POSITIONAL) as Record<string, Json>;
  const packed: Json[] = [index, packInstant(m.dueAt)];
  if (Object.keys(extra).length > 0) packed.push(stateCode, extra);
  else if (stateCode !== 0) packed.push(stateCode);
  return packed;
}

function unpackMilestone(m: Json): Json {
  if (!Array.isArray(m)) return m;
  const [index, dueAt, stateCode, extra] = m as [number, Json, number | undefined, Json];
  return {
    name: MILESTONES[index],
    dueAt: unpackInstant(dueAt),
    state: STATES[stateCode ?? 0],
    ...(unpackObject(extra ?? {}, MILESTONE_FIELDS) as Record<string, Json>),
  };
}

function unpackMilestoneDue(milestones: Json, name: Milestone['name']): Json {
  if (!Array.isArray(milestones)) return undefined;
  const found = milestones.find((m) => Array.isArray(m) && m[0] === MILESTONES.indexOf(name));
  return found === undefined ? undefined : unpackInstant((found as Json[])[1]);
}

function packLastEvent(value: Json): Json {
  if (!isPlainObject(value)) return value;
  const { eventId, type, occurredAt, ...more } = value;
  const code = HR_EVENT_TYPES.indexOf(type as (typeof HR_EVENT_TYPES)[number]);
  if (code < 0 || Object.keys(more).length > 0) return value;
  return [eventId, code, packInstant(occurredAt)];
}

function unpackLastEvent(value: Json): Json {
  if (!Array.isArray(value)) return value;
  const [eventId, code, occurredAt] = value as [Json, number, Json];
  return { eventId, type: HR_EVENT_TYPES[code], occurredAt: unpackInstant(occurredAt) };
}

/**
 * An object with its known fields renamed (instants packed) and the others
 * under `+`; fields named in `skip` are left out (stored elsewhere by the caller).
 */
function packObject(value: Json, fields: Fields, skip?: ReadonlySet<string>): Json {
  if (!isPlainObject(value)) return value;
  const out: Record<string, Json> = {};
  let rest: Record<string, Json> | undefined;
  for (const name of Object.keys(value)) {
    if (skip?.has(name)) continue;
    const v = value[name];
    const short = fields[name];
    if (short === undefined) (rest ??= {})[name] = v;
    else out[short] = INSTANT_FIELDS.has(name) ? packInstant(v) : v;
  }
  if (rest) out['+'] = rest;
  return out;
}

function unpackObject(value: Json, fields: Fields): Json {
  if (!isPlainObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [name, short] of Object.entries(fields)) {
    const v = value[short];
    if (v !== undefined) out[name] = INSTANT_FIELDS.has(name) ? unpackInstant(v) : v;
  }
  return { ...out, ...(value['+'] as Record<string, Json> | undefined) };
}

/**
 * An ISO instant as epoch ms when formatting the number gives back the very
 * same text (UTC, `Z`, milliseconds only when not zero), else unchanged. A
 * number is never an instant's stored text otherwise, so the two cannot mix.
 */
function packInstant(value: Json): Json {
  if (typeof value !== 'string') return value;
  const canonical = canonicalMs(value);
  if (canonical !== undefined) return canonical;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && isoOf(ms) === value ? ms : value;
}

/**
 * The epoch ms of an instant already in `isoOf`'s form, read off its digits
 * (every instant the domain writes; parsing and formatting it back to compare
 * was most of encoding a record); undefined for any other text, which the
 * general check then decides. In that form (`YYYY-MM-DDTHH:mm:ss[.sss]Z`): a
 * real date and time of years 0100–9999 (Date.UTC reads 0–99 as 19xx),
 * milliseconds written only when not zero. Read character by character, with
 * no match array or substrings: it runs for every instant of every record saved.
 */
function canonicalMs(value: string): number | undefined {
  const n = value.length;
  if ((n !== 20 && n !== 24) || value.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || value.charCodeAt(10) !== 84)
    return undefined;
  if (value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58) return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  let ms = 0;
  if (n === 24) {
    if (value.charCodeAt(19) !== 46 /* . */) return undefined;
    ms = digits(value, 20, 3);
    if (ms <= 0) return undefined; // `.000` is not the canonical form; -1 is not digits
  }
  if (year < 100 || month < 1 || month > 12 || day < 1) return undefined;
  if (day > daysIn(year, month) || hour < 0 || hour > 23 || minute < 0 || minute > 59) return undefined;
  if (second < 0 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** The decimal number of `count` ASCII digits at `from`, or -1 when one is not a digit. */
function digits(text: string, from: number, count: number): number {
  let out = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    out = out * 10 + d;
  }
  return out;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function unpackInstant(value: Json): Json {
  return typeof value === 'number' ? isoOf(value) : value;
}

function isoOf(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? `${iso.slice(0, -5)}Z` : iso;
}

function codeOf<T>(values: readonly T[], value: Json): Json {
  const i = values.indexOf(value as T);
  return i < 0 ? value : i;
}

function fromCode<T>(values: readonly T[], value: Json): Json {
  return typeof value === 'number' ? values[value] : value;
}

function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
