/**
 * The queue dashboard (bull-board under /ops/queues) behind the route-declared
 * access (issue #9 item 1): encoded paths reach the same route and the same
 * decision; reads need `viewer`, the admin writes (retry, clean of finished
 * jobs, promote, pause, resume) need `admin` and are audited with their actor,
 * every other board write is refused to every token; the login cookie opens
 * the board only, and cookie writes must come from the same origin.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { rawAgent, rawRequest } from '../helpers/rawHttp.ts';
import { bearer, eventually, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

let rt: Runtime;
let redis: Redis;
let hrEvents: Queue;
let ops: Queue;
const agent = rawAgent();

beforeAll(async () => {
  const settings = testSettings();
  // API only: nothing consumes the queues, so what the board does stays visible.
  rt = await testRuntime(settings, { roles: ['api'] });
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  hrEvents = new Queue('hr-events', { connection: redis, prefix: settings.env.LASTDAY_PREFIX });
  ops = new Queue('ops', { connection: redis, prefix: settings.env.LASTDAY_PREFIX });
  await ops.upsertJobScheduler('reconcile', { every: 3_600_000 }, { name: 'reconcile' });
});
afterAll(async () => {
  agent.destroy();
  await hrEvents?.close();
  await ops?.close();
  redis?.disconnect();
  await rt?.stop();
});

function call(method: string, path: string, headers: Record<string, string> = {}, body?: unknown) {
  return rawRequest(rt.url!, method, path, {
    agent,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function auditOf(type: string) {
  const res = await call('GET', '/v1/audit?limit=5000', bearer(TOKENS.viewer));
  return (
    JSON.parse(res.text).entries as { type: string; actor: string; details: Record<string, unknown> }[]
  ).filter((e) => e.type === type);
}

describe('the encoded-path bypass is closed', () => {
  it.each([
    '/ops/%71ueues/api/queues',
    '/%6Fps/queues/api/queues',
    '/%6fps/%71ueues/%61pi/queues',
    '/ops/queues/api/%71ueues',
  ])('GET %s without a token → 401, no queue data', async (path) => {
    const res = await call('GET', path);
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('milestones');
  });

  it('an encoded add-job with no token adds nothing', async () => {
    const before = await hrEvents.count();
    const res = await call(
      'POST',
      '/ops/%71ueues/api/queues/hr-events/add',
      {},
      {
        name: 'contract.terminated',
        data: { eventId: 'forged' },
        options: {},
      },
    );
    expect(res.status).toBe(401);
    expect(await hrEvents.count()).toBe(before);
  });

  it('an encoded pause with no token pauses nothing', async () => {
    const res = await call('PUT', '/ops/%71ueues/api/queues/milestones/pause');
    expect(res.status).toBe(401);
    expect(await rt.ctx.queues.milestones.isPaused()).toBe(false);
  });

  it('an encoded scheduler removal, even as admin, removes nothing', async () => {
    const path = 'api/queues/ops/job-schedulers/reconcile/remove';
    expect((await call('PUT', `/ops/%71ueues/${path}`)).status).toBe(401);
    expect((await call('PUT', `/ops/%71ueues/${path}`, bearer(TOKENS.admin))).status).toBe(403);
    expect((await call('PUT', `/ops/queues/${path}`, bearer(TOKENS.admin))).status).toBe(403);
    expect(await ops.getJobScheduler('reconcile')).toBeTruthy();
  });
});

describe('board writes', () => {
  it.each([
    ['POST', '/ops/queues/api/queues/hr-events/add', { name: 'contract.terminated', data: {}, options: {} }],
    ['PUT', '/ops/queues/api/queues/milestones/empty', undefined],
    ['PUT', '/ops/queues/api/queues/milestones/obliterate', {}],
    ['PATCH', '/ops/queues/api/queues/ops/job-schedulers/reconcile', { repeat: { every: 1000 } }],
    ['PUT', '/ops/queues/api/queues/ops/job-schedulers/reconcile/run', undefined],
    ['PATCH', '/ops/queues/api/queues/hr-events/x/update-data', { data: {} }],
    ['PATCH', '/ops/queues/api/queues/milestones/x/delay', { delay: 1 }],
    ['PUT', '/ops/queues/api/queues/milestones/concurrency', { concurrency: 1 }],
    ['PUT', '/ops/queues/api/queues/milestones/rate-limit', { max: 1, duration: 1000 }],
  ])('%s %s is refused to an admin (403)', async (method, path, body) => {
    const res = await call(method, path, bearer(TOKENS.admin), body);
    expect(res.status, res.text).toBe(403);
  });

  it('an admin pause and resume work and are audited with the actor', async () => {
    const paused = await call('PUT', '/ops/queues/api/queues/milestones/pause', bearer(TOKENS.admin));
    expect(paused.status, paused.text).toBe(200);
    expect(await rt.ctx.queues.milestones.isPaused()).toBe(true);
    const resumed = await call('PUT', '/ops/queues/api/queues/milestones/resume', bearer(TOKENS.admin));
    expect(resumed.status).toBe(200);
    expect(await rt.ctx.queues.milestones.isPaused()).toBe(false);

    const [pause] = await auditOf('dashboard.pause');
    expect(pause).toMatchObject({ actor: 'admin', details: { queue: 'milestones', via: 'bearer' } });
    expect(await auditOf('dashboard.resume')).toHaveLength(1);
  });

  it('a viewer cannot pause (403) and nothing is audited for a refusal', async () => {
    const before = (await auditOf('dashboard.pause')).length;
    expect((await call('PUT', '/ops/queues/api/queues/hr-events/pause', bearer(TOKENS.viewer))).status).toBe(
      403,
    );
    expect(await rt.ctx.queues.hrEvents.isPaused()).toBe(false);
    expect(await auditOf('dashboard.pause')).toHaveLength(before);
  });

  it('clean removes finished jobs only: a waiting job is not the board’s to drop', async () => {
    const worker = new Worker(
      'ops',
      async () => {
        throw new Error('planned failure');
      },
      // The file's client, which afterAll closes: a worker closes its own blocking
      // connection but never a client it is given.
      { connection: redis, prefix: ops.opts.prefix! },
    );
    await ops.add('fail-me', {}, { jobId: 'failed-probe' });
    await eventually(async () => (await ops.getJobState('failed-probe')) === 'failed');
    await worker.close();
    const waiting = await ops.add('probe', {}, { jobId: 'waiting-probe' });

    const cleanWaiting = await call(
      'PUT',
      `/ops/queues/api/queues/ops/${waiting.id}/clean`,
      bearer(TOKENS.admin),
    );
    expect(cleanWaiting.status, cleanWaiting.text).toBe(403);
    expect(await ops.getJob('waiting-probe')).toBeTruthy();
    expect((await call('PUT', '/ops/queues/api/queues/ops/clean/waiting', bearer(TOKENS.admin))).status).toBe(
      403,
    );
    expect((await call('PUT', '/ops/queues/api/queues/ops/clean/delayed', bearer(TOKENS.admin))).status).toBe(
      403,
    );
    expect(await ops.getJob('waiting-probe')).toBeTruthy();

    const cleanFailed = await call(
      'PUT',
      '/ops/queues/api/queues/ops/failed-probe/clean',
      bearer(TOKENS.admin),
    );
    expect(cleanFailed.status, cleanFailed.text).toBe(204);
    expect(await ops.getJob('failed-probe')).toBeUndefined();
    const [entry] = await auditOf('dashboard.clean_job');
    expect(entry).toMatchObject({ actor: 'admin', details: { queue: 'ops', jobId: 'failed-probe' } });
    const cleanAll = await call('PUT', '/ops/queues/api/queues/ops/clean/completed', bearer(TOKENS.admin));
    expect(cleanAll.status).toBe(200);
  });
});

describe('the login cookie', () => {
  it('opens the board for page loads and same-origin writes, never the API', async () => {
    const page = await call('GET', '/ops/queues/', { accept: 'text/html' });
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('/ops/login');

    const admin = { cookie: `lastday_token=${TOKENS.admin}` };
    expect((await call('GET', '/ops/queues/', { ...admin, accept: 'text/html' })).status).toBe(200);
    expect((await call('GET', '/ops/%71ueues/api/queues', admin)).status).toBe(200);
    const crossSite = await call('PUT', '/ops/queues/api/queues/milestones/pause', {
      ...admin,
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    expect(await rt.ctx.queues.milestones.isPaused()).toBe(false);
    const sameSite = await call('PUT', '/ops/queues/api/queues/milestones/resume', {
      ...admin,
      origin: rt.url!,
    });
    expect(sameSite.status).toBe(200);
    const [entry] = (await auditOf('dashboard.resume')).filter((e) => e.details.via === 'cookie');
    expect(entry).toMatchObject({ actor: 'admin' });

    expect((await call('GET', '/v1/audit/verify', admin)).status).toBe(401);
    expect((await call('GET', '/v1/people/x', admin)).status).toBe(401);
  });
});
