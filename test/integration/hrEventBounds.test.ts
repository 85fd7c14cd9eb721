/**
 * Hostile but correctly signed HR input (issue #9 items 6, 7, 10a): whatever
 * arrives is answered 4xx and kept in the rejected list, bounded — never a 500,
 * never a multi-megabyte entry — by every way in (webhook, queue, intake as the
 * CLI uses it); a signed event with an empty or absent Content-Type is
 * accepted, one with another content type is kept as rejected.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { submitHrEvent } from '../../src/queues/intake.ts';
import { hrEvent } from '../helpers/events.ts';
import { api } from '../helpers/http.ts';
import {
  bearer,
  eventually,
  outsideQueue,
  signedHeaders,
  TOKENS,
  testRuntime,
  testSettings,
} from '../helpers/lastday.ts';
import { rawRequest } from '../helpers/rawHttp.ts';

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

const DEPTH = 20_000;
const deepArrays = '['.repeat(DEPTH) + ']'.repeat(DEPTH);
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** POSTs `body` signed, with `contentType` (undefined: no header at all). */
function postSigned(body: string, contentType: string | undefined, sign = true) {
  const { 'content-type': _json, ...signature } = signedHeaders(body);
  return rawRequest(url, 'POST', '/v1/hr-events', {
    headers: {
      ...(sign ? signature : {}),
      ...(contentType !== undefined ? { 'content-type': contentType } : {}),
    },
    body,
  });
}

interface Kept {
  id: string;
  source: string;
  eventId?: string;
  issues: { path: string; message: string }[];
  issueCount: number;
  bytes: number;
  sha256: string;
  event?: unknown;
  excerpt?: string;
}

async function rejectedList(): Promise<Kept[]> {
  const res = await api(url, 'GET', '/v1/hr-events/rejected?limit=1000', undefined, bearer(TOKENS.viewer));
  expect(res.status).toBe(200);
  return res.body.rejected;
}

/** The stored stream entries' sizes in bytes, newest first. */
async function storedSizes(): Promise<number[]> {
  const rows = await hr.redis.xrevrange(`${prefix}:events:rejected`, '+', '-', 'COUNT', 50);
  return rows.map(([, fields]) => Buffer.byteLength(fields[1] ?? ''));
}

describe('deeply nested bodies (item 6)', () => {
  it('over HTTP: 400 invalid_event, kept with a bounded excerpt and the body hash', async () => {
    const res = await postSigned(deepArrays, 'application/json');
    expect(res.status, res.text.slice(0, 300)).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('invalid_event');
    const kept = (await rejectedList()).find((r) => r.sha256 === sha256(deepArrays));
    expect(kept).toMatchObject({ source: 'http', bytes: deepArrays.length });
    expect(kept!.excerpt!.length).toBeLessThanOrEqual(16_384);
    expect(deepArrays.startsWith(kept!.excerpt!)).toBe(true);
  });

  it('nested inside an object field: the same', async () => {
    const body = `{"eventId":"deep-field","reason":${deepArrays}}`;
    const res = await postSigned(body, 'application/json');
    expect(res.status).toBe(400);
    const kept = (await rejectedList()).find((r) => r.sha256 === sha256(body));
    expect(kept).toMatchObject({ source: 'http', eventId: 'deep-field' });
  });

  it('through intake as `lastday enqueue` uses it: rejected and kept, no stack overflow', async () => {
    const value = JSON.parse(deepArrays) as unknown;
    const result = await submitHrEvent(
      { events: rt.ctx.events, queue: rt.ctx.queues.hrEvents, now: rt.ctx.now },
      value,
      'cli',
    );
    expect(result.status).toBe('rejected');
    const kept = (await rejectedList()).find((r) => r.source === 'cli' && r.sha256 === sha256(deepArrays));
    expect(kept).toBeTruthy();
  });

  it('as queue job data written by another BullMQ client: failed once, kept as rejected', async () => {
    // Node's JSON.stringify cannot write such data, a client in another language can:
    // put it into the job hash directly, then let the worker have it.
    const job = await hr.queue.add('contract.ending', { placeholder: true }, { delay: 3_600_000 });
    await hr.redis.hset(`${prefix}:hr-events:${job.id}`, 'data', deepArrays);
    await job.promote();
    await eventually(async () => (await hr.queue.getJobState(job.id!)) === 'failed', 15_000);
    const kept = (await rejectedList()).find((r) => r.source === 'queue' && r.sha256 === sha256(deepArrays));
    expect(kept).toBeTruthy();
    const failed = await hr.queue.getJob(job.id!);
    expect(failed!.attemptsMade).toBe(1);
    expect(failed!.failedReason.length).toBeLessThan(8_192);
  });
});

describe('deeply nested bodies on the other JSON routes', () => {
  it.each([
    [
      'POST',
      '/v1/actions',
      TOKENS.system,
      `{"actionId":"deep","initiatorId":"x","kind":"k","target":"t","payload":${deepArrays}}`,
    ],
    ['PUT', '/v1/directory/users/deep', TOKENS.admin, deepArrays],
    ['POST', '/v1/actions/deep/cancel', TOKENS.approver, `{"reason":${deepArrays}}`],
  ])('%s %s: 400 invalid_request, not 500', async (method, path, token, body) => {
    const res = await rawRequest(url, method, path, {
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body,
    });
    expect(res.status, res.text).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('invalid_request');
  });
});

describe('rejected events are bounded by bytes (item 7)', () => {
  it('1 MB of unknown keys: the answer and the stored entry stay small, with hash and counts', async () => {
    const keys = 95_000;
    const fields = Array.from({ length: keys }, (_, i) => `"k${i}":1`).join(',');
    const event = JSON.stringify(hrEvent({ personId: 'bounded-1' }));
    const body = `${event.slice(0, -1)},${fields}}`;
    expect(body.length).toBeLessThan(1024 * 1024);
    const res = await postSigned(body, 'application/json');
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(32 * 1024);
    const answer = JSON.parse(res.text).error;
    expect(answer.code).toBe('invalid_event');
    expect(answer.issues.length).toBeLessThanOrEqual(20);
    expect(answer.issueCount).toBe(keys);

    const kept = (await rejectedList()).find((r) => r.sha256 === sha256(body))!;
    expect(kept).toMatchObject({ source: 'http', issueCount: keys, bytes: body.length });
    expect(kept.issues.length).toBeLessThanOrEqual(20);
    expect(body.startsWith(kept.excerpt!)).toBe(true);
    expect(Math.max(...(await storedSizes()))).toBeLessThan(40 * 1024);
  });

  it('a 1 MB unknown key name or eventId does not make a 1 MB issue', async () => {
    const huge = 'x'.repeat(450_000);
    const body = JSON.stringify({ ...hrEvent({ personId: 'bounded-2' }), eventId: huge, [huge]: 1 });
    const res = await postSigned(body, 'application/json');
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(32 * 1024);
    expect(Math.max(...(await storedSizes()))).toBeLessThan(40 * 1024);
  });

  it('a small invalid event is kept whole, as before', async () => {
    const event: Record<string, unknown> = { ...hrEvent({ personId: 'bounded-3' }), surprise: true };
    const res = await postSigned(JSON.stringify(event), 'application/json');
    expect(res.status).toBe(400);
    const kept = (await rejectedList()).find((r) => r.eventId === event.eventId)!;
    expect(kept.event).toEqual(event);
    expect(kept.issueCount).toBe(1);
  });
});

describe('Content-Type on the webhook (item 10a)', () => {
  it.each([
    ['an empty Content-Type', ''],
    ['no Content-Type at all', undefined],
    ['application/json; charset=utf-8', 'application/json; charset=utf-8'],
    ['APPLICATION/JSON', 'APPLICATION/JSON'],
  ])('a signed valid event with %s is accepted', async (_name, contentType) => {
    const event = hrEvent({ personId: `ctype-${Math.random().toString(36).slice(2, 8)}` });
    const res = await postSigned(JSON.stringify(event), contentType);
    expect(res.status, res.text).toBe(202);
    expect(JSON.parse(res.text)).toEqual({ eventId: event.eventId, status: 'accepted' });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'not a media type'])(
    'a signed event sent as %s is kept as rejected (400), not lost',
    async (contentType) => {
      const event = hrEvent({ personId: 'ctype-other' });
      const res = await postSigned(JSON.stringify(event), contentType);
      expect(res.status, res.text).toBe(400);
      expect(JSON.parse(res.text).error.code).toBe('invalid_event');
      const kept = (await rejectedList()).find(
        (r) => r.eventId === event.eventId && r.issues.some((i) => i.path === 'content-type'),
      );
      expect(kept).toBeTruthy();
    },
  );

  it('an unsigned body of any content type is 401 and not kept', async () => {
    const before = (await rejectedList()).length;
    for (const contentType of ['', 'text/plain', 'not a media type']) {
      const res = await postSigned('{"eventId":"unsigned"}', contentType, false);
      expect(res.status).toBe(401);
    }
    expect((await rejectedList()).length).toBe(before);
  });
});
