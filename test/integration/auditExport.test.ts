/**
 * The audit export end to end: `lastday audit export` reads the chain of a
 * real running lastday over its API as NDJSON, and `lastday audit
 * verify-export` checks the file offline, from the file alone — the same
 * verdict and head as the server's own verify. Tampered files (a line
 * deleted at the start, middle or end, a field edited, lines swapped or
 * repeated, a file cut short, the header gone) report the seq where the chain
 * breaks; a chain rewritten consistently passes on its own and is caught by
 * the expected head. Under LASTDAY_AUDIT_KEY: a chain that starts with
 * entries from before the key (hashes computed independently, in Python)
 * verifies only with the key.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { chainHasher, contentHash, GENESIS } from '../../src/store/auditHash.ts';
import { createKeys } from '../../src/store/keys.ts';
import { runCli } from '../helpers/cli.ts';
import { hrEvent } from '../helpers/events.ts';
import { api, postEvent } from '../helpers/http.ts';
import { bearer, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';
import { LEGACY_ENTRIES, LEGACY_KEY } from '../helpers/legacyAuditChain.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastday-audit-export-'));
const raw = new Redis(inject('redisUrl'));
const opened: Runtime[] = [];
let plain: Runtime;

beforeAll(async () => {
  plain = await started(testSettings());
  // Some history: plans over HTTP, an action registered and cancelled, a rejected event.
  for (const id of ['exp-1', 'exp/2', 'exp:3']) {
    expect((await postEvent(plain.url!, hrEvent({ personId: id, lastDay: '2030-06-03' }))).status).toBe(202);
  }
  const system = bearer(TOKENS.system);
  const reg = await api(
    plain.url!,
    'POST',
    '/v1/actions',
    { actionId: 'a-1', initiatorId: 'x', kind: 'k', target: 't' },
    system,
  );
  expect(reg.status).toBe(201);
  await api(
    plain.url!,
    'POST',
    '/v1/actions/a-1/cancel',
    { reason: 'ünïcödé "quoted"\n' },
    bearer(TOKENS.approver),
  );
  await waitForSeq(plain, 5);
});
afterAll(async () => {
  for (const rt of opened) await rt.stop();
  raw.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

async function started(settings: ReturnType<typeof testSettings>): Promise<Runtime> {
  const rt = await testRuntime(settings);
  opened.push(rt);
  return rt;
}

async function waitForSeq(rt: Runtime, seq: number) {
  for (let i = 0; i < 400 && (await rt.ctx.audit.head()).seq < seq; i++)
    await new Promise((r) => setTimeout(r, 25));
}

const cliEnv = (rt: Runtime, extra: Record<string, string> = {}) => ({
  LASTDAY_URL: rt.url!,
  LASTDAY_TOKEN: TOKENS.viewer,
  ...extra,
});

async function exportTo(rt: Runtime, name: string): Promise<string> {
  const file = join(dir, name);
  const res = await runCli(['audit', 'export', '--out', file], cliEnv(rt));
  expect(res.stderr).toMatch(/^exported \d+ audit entries \(head seq \d+ [0-9a-f]{64}\) to /);
  expect(res.code).toBe(0);
  return file;
}

async function verifyFile(file: string, args: string[] = [], env: Record<string, string> = {}) {
  const res = await runCli(['audit', 'verify-export', file, '--json', ...args], env);
  return { code: res.code, result: JSON.parse(res.stdout), stderr: res.stderr };
}

/** The file with its lines changed by `edit` (line 0 is the header, line k is entry k). */
function tampered(file: string, name: string, edit: (lines: string[]) => string[]): string {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const out = join(dir, name);
  writeFileSync(out, `${edit(lines).join('\n')}\n`);
  return out;
}

const patch = (line: string, change: (e: Record<string, unknown>) => void) => {
  const e = JSON.parse(line) as Record<string, unknown>;
  change(e);
  return JSON.stringify(e);
};

describe('lastday audit export and verify-export', () => {
  it('exports a running lastday and verifies offline to the server’s own head', async () => {
    const file = await exportTo(plain, 'plain.ndjson');
    const server = (await api(plain.url!, 'GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer))).body;
    expect(server.ok).toBe(true);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]!);
    expect(header).toMatchObject({ lastdayAuditExport: 1, keyed: false });
    // Entries appended after the export began belong to the next one: the header is the snapshot.
    expect(header.head.seq).toBeLessThanOrEqual(server.head.seq);
    expect(lines).toHaveLength(header.head.seq + 1);
    // Entry lines are the API's entries.
    const page = (await api(plain.url!, 'GET', '/v1/audit?limit=5000', undefined, bearer(TOKENS.viewer)))
      .body;
    expect(lines.slice(1).map((l) => JSON.parse(l))).toEqual(page.entries.slice(0, header.head.seq));

    const { code, result } = await verifyFile(file);
    expect(code).toBe(0);
    expect(result).toMatchObject({
      ok: true,
      entries: header.head.seq,
      head: header.head,
      exportHead: header.head,
      hashing: 'SHA-256, no key',
    });
    // A head kept elsewhere earlier (an older seq) must be in the export with that hash.
    const older = page.entries[2];
    const expectOlder = await verifyFile(file, ['--expect-head', `${older.seq}:${older.hash}`]);
    expect(expectOlder.result.expected).toEqual({ seq: older.seq, hash: older.hash, ok: true });
    expect(expectOlder.code).toBe(0);

    // stdout, without --out, is the same export.
    const out = await runCli(['audit', 'export'], cliEnv(plain));
    expect(out.stdout.split('\n')[1]).toBe(lines[1]);
    // Human output.
    const human = await runCli(['audit', 'verify-export', file]);
    expect(human.stdout).toMatch(
      /^audit export verifies \(SHA-256, no key\): \d+ entries, head seq \d+ [0-9a-f]{64}\n$/,
    );
  });

  it('a tampered file is broken at the right seq', async () => {
    const file = await exportTo(plain, 'base.ndjson');
    const n = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!).head.seq as number;
    expect(n).toBeGreaterThanOrEqual(5);
    const cases: [string, (l: string[]) => string[], number, RegExp][] = [
      [
        'middle line deleted',
        (l) => l.filter((_, i) => i !== 3),
        3,
        /^entry 3 is missing \(the next line is entry 4\)$/,
      ],
      ['first entry deleted', (l) => l.filter((_, i) => i !== 1), 1, /^entry 1 is missing/],
      [
        'last line deleted',
        (l) => l.slice(0, -1),
        n,
        new RegExp(`^the export ends at entry ${n - 1} but its head is entry ${n}`),
      ],
      ['header deleted', (l) => l.slice(1), 1, /no header line/],
      [
        'actor edited',
        (l) => l.map((x, i) => (i === 2 ? patch(x, (e) => (e.actor = 'mallory')) : x)),
        2,
        /^entry 2: hash mismatch$/,
      ],
      [
        'details edited',
        (l) => l.map((x, i) => (i === 4 ? patch(x, (e) => (e.details = { forged: true })) : x)),
        4,
        /^entry 4: hash mismatch$/,
      ],
      [
        'personId dropped',
        (l) => l.map((x, i) => (i === 1 ? patch(x, (e) => delete e.personId) : x)),
        1,
        /^entry 1: hash mismatch$/,
      ],
      [
        'lines swapped',
        (l) => [l[0]!, l[1]!, l[3]!, l[2]!, ...l.slice(4)],
        2,
        /^entry 2 is missing \(the next line is entry 3\)$/,
      ],
      [
        'a line repeated',
        (l) => [...l.slice(0, 3), l[2]!, ...l.slice(3)],
        3,
        /^entry 2 appears where entry 3 belongs/,
      ],
      ['cut short mid-line', (l) => [...l.slice(0, -1), l.at(-1)!.slice(0, 20)], n, /is not JSON/],
      [
        'prevHash edited',
        (l) => l.map((x, i) => (i === 2 ? patch(x, (e) => (e.prevHash = GENESIS)) : x)),
        2,
        /^entry 2: prevHash mismatch$/,
      ],
    ];
    for (const [name, edit, brokenAt, reason] of cases) {
      const { code, result } = await verifyFile(tampered(file, `${name.replaceAll(' ', '-')}.ndjson`, edit));
      expect({ name, ok: result.ok, brokenAt: result.brokenAt }).toEqual({ name, ok: false, brokenAt });
      expect(result.reason, name).toMatch(reason);
      expect(code, name).toBe(1);
    }
    const human = await runCli(['audit', 'verify-export', join(dir, 'middle-line-deleted.ndjson')]);
    expect(human.stdout).toMatch(/^audit export BROKEN at seq 3: entry 3 is missing/);
  });

  it('a chain rewritten consistently passes on its own and fails against the expected head', async () => {
    const file = await exportTo(plain, 'rewrite.ndjson');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const kept = JSON.parse(lines.at(-1)!); // the head someone kept elsewhere
    // Without a key anyone can recompute: edit entry 2 and re-chain everything after it.
    const hasher = chainHasher();
    let prev = GENESIS;
    const rewritten = lines.slice(1).map((line, i) => {
      const e = JSON.parse(line);
      if (e.seq === 2) e.actor = 'mallory';
      e.prevHash = prev;
      e.hash = hasher.link(
        prev,
        i + 1,
        contentHash({
          at: e.at,
          type: e.type,
          actor: e.actor,
          personId: e.personId ?? '',
          actionId: e.actionId ?? '',
          details: JSON.stringify(e.details),
        }),
      );
      prev = e.hash;
      return JSON.stringify(e);
    });
    const header = JSON.parse(lines[0]!);
    header.head.hash = prev;
    const forged = join(dir, 'forged.ndjson');
    writeFileSync(forged, `${[JSON.stringify(header), ...rewritten].join('\n')}\n`);
    expect((await verifyFile(forged)).result.ok).toBe(true);
    const against = await verifyFile(forged, ['--expect-head', `${kept.seq}:${kept.hash}`]);
    expect(against.code).toBe(1);
    expect(against.result).toMatchObject({
      ok: false,
      expected: {
        seq: kept.seq,
        ok: false,
        reason: expect.stringMatching(/has hash .* not the expected one/),
      },
    });
    // Cut back: entries and header head dropped together.
    const cut = tampered(file, 'cut.ndjson', (l) => {
      const h = JSON.parse(l[0]!);
      const last = JSON.parse(l.at(-2)!);
      h.head = { seq: last.seq, hash: last.hash };
      h.streamEnd = `${last.seq}-0`;
      return [JSON.stringify(h), ...l.slice(1, -1)];
    });
    expect((await verifyFile(cut)).result.ok).toBe(true);
    expect(
      (await verifyFile(cut, ['--expect-head', `${kept.seq}:${kept.hash}`])).result.expected,
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/before the expected head .* cut back/),
    });
    // A bad --expect-head is a usage error.
    expect((await runCli(['audit', 'verify-export', file, '--expect-head', 'nope'])).code).toBe(1);
  });

  it('a keyed chain with entries from before the key verifies only with the key', async () => {
    const settings = testSettings({}, { LASTDAY_AUDIT_KEY: LEGACY_KEY });
    // Three entries written by an earlier version without a key (hashes computed in Python).
    const keys = createKeys(settings.env.LASTDAY_PREFIX);
    for (const [id, fields] of LEGACY_ENTRIES) await raw.xadd(keys.auditLog, id, ...fields);
    const last = LEGACY_ENTRIES.at(-1)![1];
    await raw.set(keys.auditSeq, String(LEGACY_ENTRIES.length));
    await raw.set(keys.auditHead, last[last.indexOf('hash') + 1]!);
    const keyed = await started(settings); // seals the chain: entry 4 is keyed
    expect((await postEvent(keyed.url!, hrEvent({ personId: 'k-1', lastDay: '2030-06-03' }))).status).toBe(
      202,
    );
    await waitForSeq(keyed, 5);
    const file = await exportTo(keyed, 'keyed.ndjson');
    expect(JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!).keyed).toBe(true);

    const withKey = await verifyFile(file, ['--key-env', 'AUDIT_KEY'], { AUDIT_KEY: LEGACY_KEY });
    expect(withKey.result).toMatchObject({ ok: true, hashing: 'HMAC-SHA-256 under AUDIT_KEY' });
    expect(withKey.result.entries).toBeGreaterThanOrEqual(5);
    // LASTDAY_AUDIT_KEY is used when set and no --key-env is given.
    expect((await verifyFile(file, [], { LASTDAY_AUDIT_KEY: LEGACY_KEY })).result.ok).toBe(true);
    // Without the key the unkeyed prefix verifies and the first keyed entry does not.
    const noKey = await verifyFile(file);
    expect(noKey.result).toMatchObject({ ok: false, brokenAt: 4 });
    expect(noKey.result.reason).toMatch(
      /^entry 4: hash mismatch \(the export says it was written under LASTDAY_AUDIT_KEY/,
    );
    const wrong = await verifyFile(file, ['--key-env', 'AUDIT_KEY'], { AUDIT_KEY: 'not the key' });
    expect(wrong.result).toMatchObject({ ok: false, brokenAt: 4, reason: 'entry 4: hash mismatch' });
    // An edit in the unkeyed prefix is caught too.
    const edited = tampered(file, 'keyed-edit.ndjson', (l) =>
      l.map((x, i) => (i === 2 ? patch(x, (e) => (e.actor = 'mallory')) : x)),
    );
    expect(
      (await verifyFile(edited, ['--key-env', 'AUDIT_KEY'], { AUDIT_KEY: LEGACY_KEY })).result,
    ).toMatchObject({
      ok: false,
      brokenAt: 2,
    });
    // A variable named but not set: a usage error, not a silent unkeyed check.
    const unset = await runCli(['audit', 'verify-export', file, '--key-env', 'NOT_SET']);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toContain('--key-env NOT_SET: the environment variable is not set');
  });

  it('details stored in another spelling than JSON.stringify gives travel as detailsText', async () => {
    const settings = testSettings();
    const keys = createKeys(settings.env.LASTDAY_PREFIX);
    const hasher = chainHasher();
    const texts = ['{"b": 1, "a": [1.0, 2e0]}', '{"ok":true}', 'not json'];
    let prev = GENESIS;
    for (const [i, details] of texts.entries()) {
      const seq = i + 1;
      const c = { at: '2026-11-01T00:00:00Z', type: 't', actor: 'x', personId: '', actionId: '', details };
      const hash = hasher.link(prev, seq, contentHash(c));
      await raw.xadd(
        keys.auditLog,
        `${seq}-0`,
        'at',
        c.at,
        'type',
        't',
        'actor',
        'x',
        'personId',
        '',
        'actionId',
        '',
        'details',
        details,
        'prevHash',
        prev,
        'hash',
        hash,
      );
      prev = hash;
    }
    await raw.set(keys.auditSeq, String(texts.length));
    await raw.set(keys.auditHead, prev);
    const rt = await started(settings);
    expect((await rt.ctx.audit.verify()).ok).toBe(true);
    const file = await exportTo(rt, 'spelling.ndjson');
    const lines = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[1]).toMatchObject({ details: { b: 1, a: [1, 2] }, detailsText: texts[0] });
    expect(lines[2].detailsText).toBeUndefined();
    expect(lines[3]).toMatchObject({ details: { unparsable: 'not json' }, detailsText: 'not json' });
    expect((await verifyFile(file)).result).toMatchObject({
      ok: true,
      entries: (await rt.ctx.audit.head()).seq,
    });
    // `details` no longer what `detailsText` says: caught.
    const edited = tampered(file, 'spelling-edit.ndjson', (l) =>
      l.map((x, i) => (i === 1 ? patch(x, (e) => (e.details = { b: 2 })) : x)),
    );
    expect((await verifyFile(edited)).result).toMatchObject({
      ok: false,
      brokenAt: 1,
      reason: 'entry 1: details differ from detailsText',
    });
  });

  it('a stored head that is not a number exports the whole stream, and the file says broken', async () => {
    const settings = testSettings();
    const rt = await started(settings);
    await postEvent(rt.url!, hrEvent({ personId: 'h-1', lastDay: '2030-06-03' }));
    await waitForSeq(rt, 1);
    await raw.set(createKeys(settings.env.LASTDAY_PREFIX).auditSeq, 'garbage');
    const file = join(dir, 'garbage-head.ndjson');
    const exported = await runCli(['audit', 'export', '--out', file], cliEnv(rt));
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/^exported \d+ audit entries \(head seq not a number /);
    const header = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!);
    expect(header.head.seq).toBeNull();
    const { code, result } = await verifyFile(file);
    expect(code).toBe(1);
    expect(result).toMatchObject({ ok: false, reason: 'the stored head was not a number when exported' });
    expect((await rt.ctx.audit.verify()).ok).toBe(false);
  });

  it('GET /v1/audit/export needs a viewer token and streams NDJSON', async () => {
    expect((await fetch(`${plain.url}/v1/audit/export`)).status).toBe(401);
    const res = await fetch(`${plain.url}/v1/audit/export`, { headers: bearer(TOKENS.viewer) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="lastday-audit-\d+\.ndjson"$/,
    );
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    // Not lastday's API, or nothing there: the CLI says so and exits 2.
    const gone = await runCli(['audit', 'export'], {
      LASTDAY_URL: 'http://127.0.0.1:9',
      LASTDAY_TOKEN: TOKENS.viewer,
    });
    expect(gone.code).toBe(2);
  });
});
