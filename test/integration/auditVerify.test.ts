/**
 * GET /v1/audit/verify against a real stored chain, tampered with the way
 * someone who can write Redis would: entries deleted (first, middle, last),
 * an entry edited (in place, which needs XSETID, or by rewriting the stream),
 * re-added under a new id, the stream renamed or deleted, the head rolled back.
 * Each must answer `ok: false` with where and why; the untouched chain
 * answers `ok: true` with its stored head and count.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import type { Context } from '../../src/app/context.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { fieldMap } from '../../src/store/auditHash.ts';
import { storedDetails } from '../../src/store/auditStored.ts';
import { hrEvent } from '../helpers/events.ts';
import { api } from '../helpers/http.ts';
import { bearer, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

const ENTRIES = 5;
let rt: Runtime;
let raw: Redis;

beforeAll(async () => {
  rt = await testRuntime(testSettings(), { roles: ['api'] });
  raw = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await rt?.stop();
  raw?.disconnect();
});

/** The chain every case starts from: ENTRIES entries, the first with a real state change. */
async function chainOf(ctx: Context): Promise<{ log: string; rows: [string, string[]][] }> {
  // A real state change with its entry, then bare entries.
  await applyEvent(ctx, hrEvent({ personId: 'aud/1', lastDay: '2027-01-15' }) as HrEvent);
  const have = Number(await raw.get(ctx.keys.auditSeq));
  for (let i = have; i < ENTRIES; i++) {
    await ctx.audit.append({
      at: new Date().toISOString(),
      type: 'test.entry',
      actor: 'tester',
      personId: 'aud/1',
      details: { i },
    });
  }
  return { log: ctx.keys.auditLog, rows: await raw.xrange(ctx.keys.auditLog, '-', '+') };
}

async function verify() {
  const res = await api(rt.url!, 'GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer));
  expect(res.status).toBe(200);
  return res.body;
}

/** Rewrites the whole stream with the original ids (DEL, then XADD each). */
async function rewrite(log: string, rows: [string, string[]][]): Promise<void> {
  await raw.del(log);
  for (const [id, fields] of rows) await raw.xadd(log, id, ...fields);
}

/** A raw entry's field, the hash in hex (the stream stores it in base64url). */
const field = (fields: string[], name: string) => fieldMap(fields)[name]!;

describe('GET /v1/audit/verify', () => {
  let ctx: Context;
  let log: string;
  let rows: [string, string[]][];
  let head: { seq: number; hash: string };

  beforeAll(async () => {
    ctx = rt.ctx;
  });

  // Each case starts from the same untouched chain: restored between tests.
  async function fresh() {
    if (!rows) {
      ({ log, rows } = await chainOf(ctx));
      head = { seq: ENTRIES, hash: field(rows[ENTRIES - 1]![1], 'hash') };
    }
    await rewrite(log, rows);
    await raw.del(`${log}:hidden`);
    await raw.set(ctx.keys.auditSeq, String(head.seq));
    await raw.set(ctx.keys.auditHead, head.hash);
  }

  it('answers ok with the stored head and count for an untouched chain', async () => {
    await fresh();
    expect(rows).toHaveLength(ENTRIES);
    expect(await verify()).toEqual({ ok: true, entries: ENTRIES, head });
  });

  it('fails when the first entry is deleted', async () => {
    await fresh();
    await raw.xdel(log, '1-0');
    expect(await verify()).toMatchObject({
      ok: false,
      entries: 0,
      brokenAt: 1,
      head,
      reason: expect.stringMatching(/entry 1 is missing/),
    });
  });

  it('fails when a middle entry is deleted', async () => {
    await fresh();
    await raw.xdel(log, '3-0');
    expect(await verify()).toMatchObject({
      ok: false,
      entries: 2,
      brokenAt: 3,
      reason: expect.stringMatching(/entry 3 is missing/),
    });
  });

  it('fails when the last entry is deleted', async () => {
    await fresh();
    await raw.xdel(log, `${ENTRIES}-0`);
    expect(await verify()).toMatchObject({
      ok: false,
      entries: ENTRIES - 1,
      brokenAt: ENTRIES,
      head,
      reason: expect.stringMatching(/ends at seq 4 but the stored head is at seq 5/),
    });
  });

  it('fails when the last entry is edited in place (XDEL, XSETID back, XADD under its id)', async () => {
    await fresh();
    const [id, fields] = rows[ENTRIES - 1]!;
    await raw.xdel(log, id);
    // A deleted id cannot simply be re-added: the stream remembers its last id...
    await expect(raw.xadd(log, id, ...fields)).rejects.toThrow(/equal or smaller/);
    // ...unless it is first set back to the newest remaining entry.
    await raw.xsetid(log, rows[ENTRIES - 2]![0]);
    const edited = [...fields];
    edited[edited.indexOf('actor') + 1] = 'someone-else';
    await raw.xadd(log, id, ...edited);
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: ENTRIES,
      reason: `entry ${ENTRIES}: hash mismatch`,
    });
  });

  it('fails when the stream is rewritten with a middle entry edited', async () => {
    await fresh();
    const edited = rows.map(([id, fields]): [string, string[]] => [id, [...fields]]);
    const fields = edited[2]![1];
    fields[fields.indexOf('details') + 1] = '{"i":"edited"}';
    await rewrite(log, edited);
    expect(await verify()).toMatchObject({
      ok: false,
      entries: 2,
      brokenAt: 3,
      reason: 'entry 3: hash mismatch',
    });
  });

  it('stores an applied event entry compactly, and fails when its packed at or details are edited', async () => {
    await fresh();
    const [, fields] = rows[0]!;
    const stored = (name: string) => fields[fields.indexOf(name) + 1]!;
    // The stream keeps `at` as epoch ms and the details deflated (src/store/auditStored.ts)…
    expect(stored('at')).toMatch(/^\d+$/);
    expect(stored('details')).toMatch(/^~1/);
    expect(stored('details').length).toBeLessThan(field(fields, 'details').length / 3);
    // …and every reader gets the text that was hashed.
    const res = await api(rt.url!, 'GET', '/v1/audit?personId=aud%2F1', undefined, bearer(TOKENS.viewer));
    expect(res.body.entries[0]).toMatchObject({
      seq: 1,
      type: 'hr_event.applied',
      at: new Date(Number(stored('at'))).toISOString(),
      details: JSON.parse(field(fields, 'details')),
    });

    const edits: [string, string][] = [
      ['at', String(Number(stored('at')) + 1)],
      ['details', storedDetails(field(fields, 'details').replace('"planVersion":1', '"planVersion":2'))],
      ['details', `${stored('details').slice(0, -4)}AAAA`],
    ];
    for (const [name, value] of edits) {
      const edited = rows.map(([id, f]): [string, string[]] => [id, [...f]]);
      const first = edited[0]![1];
      first[first.indexOf(name) + 1] = value;
      await rewrite(log, edited);
      expect(await verify()).toMatchObject({ ok: false, entries: 0, brokenAt: 1 });
    }
  });

  it('fails when an entry is deleted and added again under a new id', async () => {
    await fresh();
    const [id, fields] = rows[2]!;
    await raw.xdel(log, id);
    await raw.xadd(log, '*', ...fields);
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: expect.stringMatching(/entry 3 is missing/),
    });
  });

  it('fails when the stream is renamed away or deleted', async () => {
    await fresh();
    await raw.rename(log, `${log}:hidden`);
    const renamed = await verify();
    expect(renamed).toMatchObject({
      ok: false,
      entries: 0,
      brokenAt: 1,
      head,
      reason: expect.stringMatching(/no entries/),
    });
    await fresh();
    await raw.del(log);
    expect(await verify()).toMatchObject({ ok: false, entries: 0, brokenAt: 1 });
  });

  it('fails when the head is rolled back to an earlier entry', async () => {
    await fresh();
    await raw.set(ctx.keys.auditSeq, '3');
    await raw.set(ctx.keys.auditHead, field(rows[2]![1], 'hash'));
    expect(await verify()).toMatchObject({
      ok: false,
      entries: 3,
      brokenAt: 4,
      head: { seq: 3 },
      reason: expect.stringMatching(/beyond the stored head/),
    });
  });

  it('fails when only the head hash or only the head seq is changed', async () => {
    await fresh();
    await raw.set(ctx.keys.auditHead, field(rows[2]![1], 'hash'));
    expect(await verify()).toMatchObject({
      ok: false,
      brokenAt: ENTRIES,
      reason: expect.stringMatching(/not the stored head hash/),
    });
    await fresh();
    await raw.set(ctx.keys.auditSeq, String(ENTRIES + 2));
    expect(await verify()).toMatchObject({ ok: false, brokenAt: ENTRIES + 1, head: { seq: ENTRIES + 2 } });
    await fresh();
    await raw.del(ctx.keys.auditSeq);
    expect(await verify()).toMatchObject({ ok: false, head: { seq: 0 } });
  });

  it('fails, rather than erroring, when a chain key is replaced by another type', async () => {
    await fresh();
    await raw.del(log);
    await raw.set(log, 'not a stream');
    expect(await verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/wrong type/) });
  });

  it('marks the evidence of a person when the chain is broken', async () => {
    await fresh();
    const ok = await api(rt.url!, 'GET', '/v1/people/aud%2F1/evidence', undefined, bearer(TOKENS.viewer));
    expect(ok.body.audit).toMatchObject({ chainOk: true, chainEntries: ENTRIES });
    await raw.xdel(log, `${ENTRIES}-0`);
    const broken = await api(rt.url!, 'GET', '/v1/people/aud%2F1/evidence', undefined, bearer(TOKENS.viewer));
    expect(broken.body.audit).toMatchObject({ chainOk: false, brokenAt: ENTRIES });
    await fresh();
  });
});
