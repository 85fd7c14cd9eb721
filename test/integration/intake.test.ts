/**
 * HR event intake on a real runtime (contract section 2): the signed webhook,
 * idempotency by eventId and webhook-id, rejected events kept with reasons, the
 * BullMQ queue as a way in, and out-of-order events. (`lastday enqueue`: test/e2e/cliEnqueue.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { hrEvent } from '../helpers/events.ts';
import { api, postEvent } from '../helpers/http.ts';
import { bearer, eventually, outsideQueue, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

let rt: Runtime;
let url: string;
let prefix: string;
let hr: ReturnType<typeof outsideQueue>;

beforeAll(async () => {
  const settings = testSettings();
  prefix = settings.env.LASTDAY_PREFIX;
  rt = await testRuntime(settings);
  url = rt.url!;
  hr = outsideQueue('hr-events', prefix);
});
afterAll(async () => {
  await hr?.close();
  await rt?.stop();
});

const viewer = bearer(TOKENS.viewer);

async function person(id: string) {
  return api(url, 'GET', `/v1/people/${encodeURIComponent(id)}`, undefined, viewer);
}

async function appliedPerson(
  id: string,
  check: (body: { planVersion?: number; lastDay?: string }) => boolean = () => true,
) {
  return eventually(async () => {
    const res = await person(id);
    return res.status === 200 && check(res.body) ? res.body : undefined;
  });
}

async function auditTypes(personId: string): Promise<string[]> {
  const res = await api(url, 'GET', `/v1/audit?personId=${encodeURIComponent(personId)}`, undefined, viewer);
  return res.body.entries.map((e: { type: string }) => e.type);
}

describe('POST /v1/hr-events (Standard Webhooks)', () => {
  it('accepts a signed event (202) and applies it; GET person has the contract shape', async () => {
    const event = hrEvent({
      personId: 'intake-1',
      lastDay: '2030-06-14',
      endTime: '16:30',
      timezone: 'Europe/Berlin',
    });
    const res = await postEvent(url, event);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId: event.eventId, status: 'accepted' });

    const body = await appliedPerson('intake-1');
    expect(body).toMatchObject({
      personId: 'intake-1',
      status: 'scheduled',
      employment: 'contractor',
      timezone: 'Europe/Berlin',
      lastDay: '2030-06-14',
      endsAt: '2030-06-14T14:30:00Z',
      reinstatement_required: false,
    });
    expect(body.milestones).toEqual([
      { name: 'notice', dueAt: '2030-06-07T07:00:00Z', state: 'scheduled' },
      { name: 'reduce', dueAt: '2030-06-12T07:00:00Z', state: 'scheduled' },
      { name: 'freeze', dueAt: '2030-06-13T22:00:00Z', state: 'scheduled' },
      { name: 'revoke', dueAt: '2030-06-14T14:30:00Z', state: 'scheduled' },
      { name: 'verify', dueAt: '2030-06-14T15:30:00Z', state: 'scheduled' },
    ]);
  });

  it('person ids of any characters work end to end: `:` and `/`, 200 non-ASCII characters', async () => {
    for (const id of ['a:b/c d?e#f%20', '社'.repeat(200), '👩‍💻/'.repeat(40)]) {
      const event = hrEvent({ personId: id, lastDay: '2030-06-14' });
      delete (event.person as { email?: string }).email; // the helper derives one from the id
      const res = await postEvent(url, event);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const body = await appliedPerson(id);
      expect(body.personId).toBe(id);
      const dir = await api(
        url,
        'PUT',
        `/v1/directory/users/${encodeURIComponent(id)}`,
        { active: true, grants: [] },
        bearer(TOKENS.admin),
      );
      expect(dir.status, id).toBe(200);
      expect(dir.body.personId).toBe(id);
    }
  });

  it('ids that are not well-formed text (lone surrogates) are invalid events, not server errors', async () => {
    const badPerson = hrEvent({ personId: 'surrogate-bad' });
    (badPerson.person as { id: string }).id = 'half-\ud83d';
    const res = await postEvent(url, badPerson);
    expect(res.status).toBe(400);
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['person.id']);
    const badEventId = hrEvent({ eventId: 'ev-\udc00', personId: 'surrogate-ok' });
    const res2 = await postEvent(url, badEventId);
    expect(res2.status).toBe(400);
    expect(res2.body.error.issues.map((i: { path: string }) => i.path)).toEqual(['eventId']);
  });

  it('GET /v1/people of an unknown person is 404 not_found', async () => {
    const res = await person('nobody-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect(typeof res.body.error.message).toBe('string');
  });

  it('the same eventId again (new delivery) answers 200 duplicate', async () => {
    const event = hrEvent({ personId: 'intake-dup' });
    expect((await postEvent(url, event)).status).toBe(202);
    const again = await postEvent(url, event);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ eventId: event.eventId, status: 'duplicate' });
  });

  it('the same webhook-id replayed answers 200 duplicate', async () => {
    const event = hrEvent({ personId: 'intake-replay' });
    const id = `msg_replay_${Date.now()}`;
    const at = new Date();
    expect((await postEvent(url, event, { id, at })).status).toBe(202);
    const replay = await postEvent(url, event, { id, at });
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({ eventId: event.eventId, status: 'duplicate' });
  });

  it('refuses a bad signature with 401 bad_signature', async () => {
    const event = hrEvent({ personId: 'intake-badsig' });
    const wrongSecret = `whsec_${Buffer.from('not-the-hr-secret-at-all-000000').toString('base64')}`;
    const res = await postEvent(url, event, { secret: wrongSecret });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'bad_signature' } });

    // Signed bytes and sent bytes must match.
    const body = JSON.stringify(event);
    const signedFor = (await import('../helpers/lastday.ts')).signedHeaders(body);
    const tampered = await fetch(`${url}/v1/hr-events`, {
      method: 'POST',
      headers: signedFor,
      body: JSON.stringify({ ...event, lastDay: '2031-01-01' }),
    });
    expect(tampered.status).toBe(401);
    expect((await person('intake-badsig')).status).toBe(404);
  });

  it('refuses timestamps outside the 5-minute tolerance, both ways', async () => {
    const event = hrEvent({ personId: 'intake-stale-ts' });
    for (const offsetMs of [-6 * 60_000, 6 * 60_000]) {
      const res = await postEvent(url, event, { at: new Date(Date.now() + offsetMs) });
      expect(res.status, `offset ${offsetMs}`).toBe(401);
      expect(res.body.error.code).toBe('bad_signature');
    }
    // Inside the tolerance it is fine.
    expect((await postEvent(url, event, { at: new Date(Date.now() - 4 * 60_000) })).status).toBe(202);
  });

  it('refuses missing signature headers with 401', async () => {
    const event = hrEvent({ personId: 'intake-noheaders' });
    const body = JSON.stringify(event);
    const none = await fetch(`${url}/v1/hr-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('bad_signature');
    for (const missing of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const res = await postEvent(url, event, { headers: { [missing]: '' } });
      expect(res.status, missing).toBe(401);
      expect(res.body.error.code).toBe('bad_signature');
    }
  });

  it('an invalid event is 400 invalid_event with issues, and listed as rejected (viewer)', async () => {
    const event: Record<string, unknown> = {
      ...hrEvent({ personId: 'intake-invalid', lastDay: '2026-02-30' }),
      surprise: true,
    };
    const res = await postEvent(url, event);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_event');
    expect(typeof res.body.error.message).toBe('string');
    const paths = res.body.error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['lastDay']));
    expect(res.body.error.issues.some((i: { message: string }) => i.message.includes('surprise'))).toBe(true);

    expect((await api(url, 'GET', '/v1/hr-events/rejected')).status).toBe(401);
    const rejected = await api(url, 'GET', '/v1/hr-events/rejected', undefined, viewer);
    expect(rejected.status).toBe(200);
    const entry = rejected.body.rejected.find((r: { eventId?: string }) => r.eventId === event.eventId);
    expect(entry).toMatchObject({ source: 'http', eventId: event.eventId });
    expect(entry.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['lastDay']));
    expect((await person('intake-invalid')).status).toBe(404);
  });

  it('accepts application/json with a charset parameter', async () => {
    const event = hrEvent({ personId: 'intake-charset' });
    const res = await postEvent(url, event, {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status).toBe(202);
  });

  it('a signed body that is not JSON is 400 invalid_event and kept as rejected', async () => {
    const body = '{"eventId": "not-json-body", ';
    const headers = (await import('../helpers/lastday.ts')).signedHeaders(body);
    const res = await fetch(`${url}/v1/hr-events`, { method: 'POST', headers, body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_event');
    const rejected = await api(url, 'GET', '/v1/hr-events/rejected', undefined, viewer);
    expect(rejected.body.rejected.some((r: { event: unknown }) => r.event === body)).toBe(true);
  });
});

describe('the hr-events queue as a way in', () => {
  it('an event added to the BullMQ queue directly is applied', async () => {
    const event = hrEvent({ personId: 'queue/direct:1', lastDay: '2030-07-12' });
    await hr.queue.add(event.type as string, event);
    const body = await appliedPerson('queue/direct:1');
    expect(body.lastDay).toBe('2030-07-12');
    // The same eventId over HTTP afterwards is a duplicate.
    const again = await postEvent(url, event);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('duplicate');
  });

  it('the same event on the queue twice is applied once', async () => {
    const event = hrEvent({ personId: 'queue-twice', lastDay: '2030-07-12' });
    expect((await postEvent(url, event)).status).toBe(202);
    const first = await appliedPerson('queue-twice');
    const job = await hr.queue.add(event.type as string, event);
    await eventually(async () => (await job.isCompleted()) || (await job.isFailed()));
    expect((await person('queue-twice')).body.planVersion).toBe(first.planVersion);
    expect((await auditTypes('queue-twice')).filter((t) => t === 'hr_event.applied')).toHaveLength(1);
  });

  it('an invalid queue job is kept as rejected, with its reasons', async () => {
    const event = hrEvent({ personId: 'queue-invalid', timezone: 'PST' });
    const job = await hr.queue.add('contract.ending', event);
    await eventually(async () => (await job.isFailed()) || undefined);
    const rejected = await api(url, 'GET', '/v1/hr-events/rejected', undefined, viewer);
    const entry = rejected.body.rejected.find((r: { eventId?: string }) => r.eventId === event.eventId);
    expect(entry).toMatchObject({ source: 'queue' });
    expect(entry.issues.map((i: { path: string }) => i.path)).toContain('person.timezone');
    expect((await person('queue-invalid')).status).toBe(404);

    // A job whose name disagrees with its type is refused too.
    const mismatched = hrEvent({ personId: 'queue-invalid' });
    const job2 = await hr.queue.add('contract.terminated', mismatched);
    await eventually(async () => (await job2.isFailed()) || undefined);
    expect((await person('queue-invalid')).status).toBe(404);
  });
});

describe('ordering', () => {
  it('an event older than the applied one is ignored and audited as hr_event.stale', async () => {
    const id = 'intake-order';
    const newer = hrEvent({ personId: id, occurredAt: '2026-11-20T12:00:00Z', lastDay: '2030-08-16' });
    const older = hrEvent({ personId: id, occurredAt: '2026-11-20T11:00:00Z', lastDay: '2030-09-20' });
    expect((await postEvent(url, newer)).status).toBe(202);
    const applied = await appliedPerson(id);
    expect((await postEvent(url, older)).status).toBe(202);
    await eventually(async () => (await auditTypes(id)).includes('hr_event.stale'));
    const now = (await person(id)).body;
    expect(now.lastDay).toBe('2030-08-16');
    expect(now.planVersion).toBe(applied.planVersion);
    const audit = await api(url, 'GET', `/v1/audit?personId=${id}`, undefined, viewer);
    const stale = audit.body.entries.find((e: { type: string }) => e.type === 'hr_event.stale');
    expect(stale.details.eventId).toBe(older.eventId);
    // Audit entries have the contract's shape, instants in UTC.
    const allowed = ['seq', 'at', 'type', 'actor', 'personId', 'actionId', 'details', 'prevHash', 'hash'];
    for (const entry of audit.body.entries) {
      for (const key of Object.keys(entry)) expect(allowed).toContain(key);
      expect(entry).toMatchObject({ personId: id, seq: expect.any(Number), details: expect.any(Object) });
      expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.prevHash).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.at).toMatch(/Z$/);
    }
    const verify = await api(url, 'GET', '/v1/audit/verify', undefined, viewer);
    expect(verify.body).toMatchObject({ ok: true, entries: expect.any(Number) });
  });
});

describe('reading', () => {
  it('GET /v1/offboardings lists people whose endsAt falls in the window', async () => {
    const event = hrEvent({ personId: 'window-1', lastDay: '2031-03-14', timezone: 'Asia/Kolkata' });
    expect((await postEvent(url, event)).status).toBe(202);
    await appliedPerson('window-1');
    const ids = async (query: string) => {
      const res = await api(url, 'GET', `/v1/offboardings?${query}`, undefined, viewer);
      expect(res.status).toBe(200);
      return res.body.offboardings.map((p: { personId: string }) => p.personId);
    };
    // endsAt 2031-03-14T11:30:00Z
    expect(await ids('from=2031-03-14&to=2031-03-14')).toContain('window-1');
    expect(await ids('from=2031-03-14T11:30:00Z&to=2031-03-14T11:30:00Z')).toContain('window-1');
    expect(await ids('from=2031-03-14T11:30:01Z&to=2031-03-20')).not.toContain('window-1');
    expect(await ids('from=2031-03-01&to=2031-03-13')).not.toContain('window-1');
    const bad = await api(url, 'GET', '/v1/offboardings?from=yesterday', undefined, viewer);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });

  it('every Redis key written so far starts with a test prefix', async () => {
    const strays: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await hr.redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      // Every test file runs under its own t-xxxxxxxx prefix, hash-tagged ({t-xxxxxxxx}) where a
      // test runs the cluster key layout on this Redis; nothing may land outside one.
      strays.push(...keys.filter((k) => !/^(t-[0-9a-f]{8}|\{t-[0-9a-f]{8}\}):/.test(k)));
    } while (cursor !== '0');
    expect(strays).toEqual([]);
    const ours = await hr.redis.keys(`${prefix}:*`);
    expect(ours.length).toBeGreaterThan(0);
  });
});
