/**
 * A job on `hr-events` whose data is not JSON (any BullMQ client in any language
 * can write one): it fails once, is not retried, and is kept as a rejected event
 * with its reason, on a real worker and a real Redis. Before, BullMQ's
 * `Job.fromJSON` threw inside the worker's fetch, the job stayed `active`, and
 * the stalled check put it back for ever.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { hrEvent } from '../helpers/events.ts';
import { eventually, outsideQueue, testRuntime, testSettings } from '../helpers/lastday.ts';

const settings = testSettings();
let hr: ReturnType<typeof outsideQueue>;
let rt: Runtime | undefined;

/** What a raw client does: a job hash whose `data` field is whatever it wrote. */
async function addRaw(jobId: string, data: string, name = 'contract.ending'): Promise<string> {
  // Added delayed, rewritten, then promoted: the worker only ever sees the raw data.
  const job = await hr.queue.add(name, {}, { jobId, delay: 3_600_000, attempts: 5 });
  await hr.redis.hset(hr.queue.toKey(job.id!), 'data', data);
  await job.promote();
  return job.id!;
}

beforeAll(async () => {
  hr = outsideQueue('hr-events', settings.env.LASTDAY_PREFIX);
  // Waiting before the worker starts: its very first fetch meets the bad job.
  await addRaw('raw-first', 'not json');
  rt = await testRuntime(settings, { roles: ['worker', 'api'] });
});

afterAll(async () => {
  await rt?.stop({ timeoutMs: 2_000 });
  await hr?.close();
});

async function failedOnce(jobId: string) {
  await eventually(async () => (await hr.queue.getJobState(jobId)) === 'failed', 10_000).catch(
    async (err: Error) => {
      throw new Error(`${err.message}: job ${jobId} is ${await hr.queue.getJobState(jobId)}`);
    },
  );
  const hash = await hr.redis.hgetall(hr.queue.toKey(jobId));
  return { attempts: Number(hash.atm ?? hash.attemptsMade ?? 0), reason: hash.failedReason ?? '' };
}

describe('a queued HR event whose data is not JSON', () => {
  it('fails once, is not retried, and is kept as a rejected event with the parse error', async () => {
    const first = await failedOnce('raw-first');
    expect(first.attempts).toBe(1);
    expect(first.reason).toMatch(/not JSON/);

    // One arriving while the worker runs (fetched as the next job after another) too.
    const good = hrEvent({ personId: 'after-bad', lastDay: '2031-05-02' });
    await hr.queue.add(String(good.type), good);
    await addRaw('raw-second', '{"eventId": "half-written", ');
    const second = await failedOnce('raw-second');
    expect(second.attempts).toBe(1);

    const rejected = await rt!.ctx.events.listRejected(10);
    const bySource = rejected.filter((r) => r.source === 'queue');
    expect(bySource).toHaveLength(2);
    const [newest, oldest] = bySource;
    expect(oldest!.issues[0]!.message).toMatch(/^job data is not JSON: .+/);
    expect(oldest!.event).toBe('not json');
    expect(newest!.event).toBe('{"eventId": "half-written", ');
    expect(newest!.issues[0]!.message).toMatch(/not JSON/);

    // Stored back as JSON: readers such as the dashboard can list the failed jobs.
    const failed = await hr.queue.getJobs(['failed']);
    expect(failed.map((j) => [j.id, j.data])).toEqual(
      expect.arrayContaining([
        ['raw-first', { notJson: 'not json' }],
        ['raw-second', { notJson: '{"eventId": "half-written", ' }],
      ]),
    );

    // The worker kept working: the good event was applied.
    await eventually(async () => (await rt!.ctx.people.get('after-bad'))?.lastDay === '2031-05-02');
  });
});
