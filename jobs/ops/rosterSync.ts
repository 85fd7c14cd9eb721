/**
 * Roster sync: reads the HR roster named in `crons.rosterSync.source` (a JSON
 * array or CSV, from a file or an http(s) URL), compares it with lastday's
 * records (src/domain/roster.ts) and submits the differences as ordinary HR
 * events through intake, so they are validated, deduplicated and audited like
 * any other.
 *
 * Idempotency: event ids are derived from the row's content and version (its
 * `updatedAt`, else the source's modification time), so running the same
 * roster twice submits the same ids and the second run is all duplicates.
 * `occurredAt` is that same version: a roster older than an event lastday
 * applied since is recorded as stale, not applied over newer news.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { type CronsConfig, hasUrlCredentials } from '../../src/config/crons.ts';
import { safeUrl } from '../../src/connectors/httpClient.ts';
import { parseCsv } from '../../src/domain/csv.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import type { PersonRecord } from '../../src/domain/person.ts';
import {
  diffRows,
  isRemovalCandidate,
  parseRosterRows,
  ROSTER_EVENT_PREFIX,
  type RosterParse,
  type WantedRow,
} from '../../src/domain/roster.ts';
import { submitHrEvent } from '../../src/queues/intake.ts';
import type { JobPorts } from '../ports.ts';
import type { Progress } from './reconcile.ts';

export type RosterConfig = CronsConfig['rosterSync'];

const REMOVED_LIST_MAX = 1000;

export interface RosterSource {
  rows: unknown[];
  /** ISO instant the roster was last modified, when the source says. */
  modifiedAt?: string;
}

export interface RosterSyncResult {
  rows: number;
  invalid: RosterParse['invalid'];
  added: number;
  changed: number;
  /** People the roster introduced and no longer lists (before revoke); the first 1000. */
  removed: string[];
  removedCount: number;
  /** True when removals were cancelled (`cancelRemoved` on and within `maxRemovals`). */
  removalsApplied: boolean;
  submitted: { accepted: number; duplicate: number; rejected: number };
  durationMs: number;
}

export type RosterSyncPorts = Pick<
  JobPorts,
  'people' | 'events' | 'queues' | 'metrics' | 'alerts' | 'log' | 'policy' | 'now'
>;

export async function rosterSync(
  ctx: RosterSyncPorts,
  config: RosterConfig,
  options: { onProgress?: (p: Progress) => void | Promise<void>; env?: NodeJS.ProcessEnv } = {},
): Promise<RosterSyncResult> {
  if (!config.source) throw new Error('crons.rosterSync.source is not set');
  const started = Date.now();
  const source = await loadRoster(config, options.env ?? process.env);
  const parsed = parseRosterRows(source.rows);
  // A version after now (a server clock ahead, a bogus Last-Modified) would date
  // the events in the future and make every real HR event until then look stale.
  const now = ctx.now();
  const version =
    source.modifiedAt && Date.parse(source.modifiedAt) <= now.getTime()
      ? source.modifiedAt
      : now.toISOString();
  const result: RosterSyncResult = {
    rows: source.rows.length,
    invalid: parsed.invalid,
    added: 0,
    changed: 0,
    removed: [],
    removedCount: 0,
    removalsApplied: false,
    submitted: { accepted: 0, duplicate: 0, rejected: 0 },
    durationMs: 0,
  };
  for (const issue of parsed.invalid) {
    ctx.log.warn({ row: issue.index, id: issue.id, issues: issue.issues }, 'roster row invalid; skipped');
  }
  const submit = async (event: HrEvent) => {
    const r = await submitHrEvent(
      { events: ctx.events, queue: ctx.queues.hrEvents, metrics: ctx.metrics, now: ctx.now },
      event,
      'roster',
    );
    result.submitted[r.status]++;
  };

  // Additions and changes, in batches so the lookups stay bounded.
  const total = parsed.rows.length;
  const BATCH = 500;
  for (let i = 0; i < parsed.rows.length; i += BATCH) {
    const rows = parsed.rows.slice(i, i + BATCH);
    const records = new Map((await ctx.people.getMany(rows.map((r) => r.id))).map((r) => [r.person.id, r]));
    for (const change of diffRows(rows, records, ctx.policy)) {
      if (change.kind === 'removed') continue;
      result[change.kind]++;
      await submit(endingEvent(change.row, version));
    }
    await options.onProgress?.({ done: Math.min(i + BATCH, total), total });
  }

  // Removals: walk lastday's people, keep only the candidates.
  const rosterIds = new Set(parsed.rows.filter((r) => r.lastDay).map((r) => r.id));
  // Records are kept only up to maxRemovals + 1: past that none is cancelled anyway.
  const candidates: PersonRecord[] = [];
  let removedCount = 0;
  for await (const ids of ctx.people.scanIds(500)) {
    for (const record of await ctx.people.getMany(ids)) {
      if (!isRemovalCandidate(record, rosterIds)) continue;
      removedCount++;
      if (result.removed.length < REMOVED_LIST_MAX) result.removed.push(record.person.id);
      if (candidates.length <= config.maxRemovals) candidates.push(record);
    }
  }
  result.removedCount = removedCount;
  if (removedCount > 0 && config.cancelRemoved) {
    if (removedCount > config.maxRemovals) {
      await ctx.alerts.raise({
        kind: 'roster_removals_refused',
        message: `roster sync: ${removedCount} planned people are missing from the roster (more than maxRemovals ${config.maxRemovals}); none cancelled`,
        details: { count: removedCount, sample: result.removed.slice(0, 20) },
      });
    } else {
      result.removalsApplied = true;
      for (const record of candidates) await submit(cancelEvent(record, version));
    }
  } else if (removedCount > 0) {
    ctx.log.warn(
      { count: removedCount, sample: result.removed.slice(0, 20) },
      'roster sync: planned people missing from the roster (cancelRemoved is off; nothing changed)',
    );
  }
  result.durationMs = Date.now() - started;
  return result;
}

function eventId(parts: readonly unknown[]): string {
  return `${ROSTER_EVENT_PREFIX}${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40)}`;
}

function endingEvent(row: WantedRow, version: string): HrEvent {
  const occurredAt = row.updatedAt ?? version;
  // Department and country join the id only when given: ids of rows without them stay as they were.
  const scoped =
    row.department !== undefined || row.country !== undefined
      ? [row.department ?? null, row.country ?? null]
      : [];
  return {
    eventId: eventId([
      'ending',
      row.id,
      row.lastDay,
      row.endTime,
      row.timezone,
      row.employment,
      occurredAt,
      ...scoped,
    ]),
    type: 'contract.ending',
    occurredAt,
    person: {
      id: row.id,
      employment: row.employment,
      timezone: row.timezone,
      ...(row.email ? { email: row.email } : {}),
      ...(row.name ? { name: row.name } : {}),
      ...(row.department ? { department: row.department } : {}),
      ...(row.country ? { country: row.country } : {}),
    },
    lastDay: row.lastDay,
    // A row without one gets its scope's default, and keeps following it.
    ...(row.endTimeDefaulted ? {} : { endTime: row.endTime }),
    reason: 'roster sync',
  };
}

function cancelEvent(record: PersonRecord, version: string): HrEvent {
  // Keyed on the event that introduced the plan: a later re-add and removal is a new event.
  const occurredAt =
    Date.parse(version) >= Date.parse(record.lastEvent.occurredAt) ? version : record.lastEvent.occurredAt;
  return {
    eventId: eventId(['removed', record.person.id, record.lastEvent.eventId]),
    type: 'offboarding.cancelled',
    occurredAt,
    person: record.person,
    reason: 'roster sync: no longer on the HR roster',
  };
}

/** Reads the roster: a file path or an http(s) URL, JSON array or CSV. */
export async function loadRoster(config: RosterConfig, env: NodeJS.ProcessEnv): Promise<RosterSource> {
  const source = config.source!;
  let text: string;
  let modifiedAt: string | undefined;
  let contentType = '';
  // Named in errors without credentials or query string, which may carry a key.
  const where = `roster ${/^https?:\/\//i.test(source) ? safeUrl(source) : source}`;
  if (/^https?:\/\//i.test(source)) {
    // fetch refuses such a URL with an error that quotes it whole, password included.
    if (hasUrlCredentials(source)) {
      throw new Error(
        `${where}: credentials in the URL (user:password@) are never sent; use crons.rosterSync.tokenEnv`,
      );
    }
    let token: string | undefined;
    if (config.tokenEnv) {
      token = env[config.tokenEnv];
      // Fetching anyway would only earn a 401 that hides the real cause.
      if (!token)
        throw new Error(`crons.rosterSync.tokenEnv: environment variable ${config.tokenEnv} is not set`);
    }
    try {
      // One signal for the headers and the body: a server that stalls mid-body times out too.
      const res = await fetch(source, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      if (!res.ok)
        throw new Error(`${where}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
      text = await res.text();
      contentType = res.headers.get('content-type') ?? '';
      const lm = res.headers.get('last-modified');
      if (lm && !Number.isNaN(Date.parse(lm))) modifiedAt = new Date(lm).toISOString();
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        throw new Error(`${where}: timed out after ${config.timeoutMs} ms`);
      if (e.message.startsWith(where)) throw e;
      const cause = (e.cause as Error | undefined)?.message;
      throw new Error(`${where}: ${e.message}${cause ? ` (${cause})` : ''}`);
    }
  } else {
    text = await readFile(source, 'utf8');
    modifiedAt = (await stat(source)).mtime.toISOString();
  }
  const format =
    config.format ??
    (/\.csv$/i.test(source.split('?')[0]!) || /^(text|application)\/(x-)?csv\b/i.test(contentType)
      ? 'csv'
      : 'json');
  let rows: unknown[];
  if (format === 'csv') rows = parseCsv(text);
  else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(
        `${where}: not JSON${contentType ? ` (content-type ${contentType})` : ''}: ${(err as Error).message}`,
      );
    }
    if (!Array.isArray(parsed)) throw new Error(`${where}: expected a JSON array of people`);
    rows = parsed;
  }
  return { rows, ...(modifiedAt ? { modifiedAt } : {}) };
}
