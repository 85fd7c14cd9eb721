/**
 * Plain BullMQ baselines: the same Redis, the same concurrency, a no-op
 * processor. Each lastday figure is printed beside one of these, so a reader
 * sees what lastday costs on top of the queue it is built on.
 */
import { Queue, Worker } from 'bullmq';
import type { RedisClient } from '../../src/queues/connection.ts';
import { HR_EVENT_JOB_OPTIONS, HR_EVENT_RETENTION } from '../../src/queues/intake.ts';
import { driverRedis, sleep, unfinished, waitUntil } from './lastday.ts';
import { type CpuSpent, cpuWindow } from './redis.ts';

const NAME = 'noop';

async function withQueue<T>(
  url: string,
  prefix: string,
  concurrency: number,
  process: (job: { data: Record<string, number> }) => void,
  body: (queue: Queue, driver: RedisClient) => Promise<T>,
): Promise<T> {
  const driver = driverRedis(url);
  const workerConn = driverRedis(url);
  const queue = new Queue(NAME, { connection: driver, prefix });
  const worker = new Worker(
    NAME,
    async (job) => {
      process(job);
    },
    {
      connection: workerConn,
      prefix,
      concurrency,
      autorun: true,
      // The retention lastday's hr-events worker has (it is the worker's, not the job's).
      removeOnComplete: HR_EVENT_RETENTION.completed,
      removeOnFail: HR_EVENT_RETENTION.failed,
    },
  );
  await worker.waitUntilReady();
  try {
    return await body(queue, driver);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    workerConn.disconnect();
    driver.disconnect();
  }
}

/** No-op jobs/s from the first add to the last completion (bulk adds, like the ingest case). */
export async function noopThroughput(url: string, prefix: string, n: number, concurrency: number) {
  return withQueue(
    url,
    prefix,
    concurrency,
    () => undefined,
    async (queue) => {
      const started = performance.now();
      for (let i = 0; i < n; i += 1000) {
        await queue.addBulk(
          Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
            name: NAME,
            data: { i: i + k },
            opts: { ...HR_EVENT_JOB_OPTIONS, jobId: `noop.${i + k}` },
          })),
        );
      }
      await waitUntil('baseline drained', async () => (await unfinished(queue)) === 0, 600_000, 20);
      const seconds = (performance.now() - started) / 1000;
      return { perSecond: n / seconds, seconds };
    },
  );
}

/**
 * Lateness of plain delayed jobs due `offsetsMs` after a start instant a lead
 * time ahead: time from each due instant to the no-op processor running. `laterCount` extra jobs are due
 * far in the future, as lastday's case has people scheduled for later.
 */
export async function delayedLateness(
  url: string,
  prefix: string,
  offsetsMs: readonly number[],
  laterCount: number,
  concurrency: number,
  leadMs = 10_000,
): Promise<{ lateness: number[]; cpu: CpuSpent }> {
  const lateness: number[] = [];
  return withQueue(
    url,
    prefix,
    concurrency,
    (job) => {
      lateness.push(Date.now() - job.data.dueAt!);
    },
    async (queue, driver) => {
      const farMs = 30 * 24 * 3600_000;
      for (let i = 0; i < laterCount; i += 1000) {
        await queue.addBulk(
          Array.from({ length: Math.min(1000, laterCount - i) }, (_, k) => ({
            name: NAME,
            data: { dueAt: Date.now() + farMs },
            opts: { delay: farMs, jobId: `later.${i + k}` },
          })),
        );
      }
      // Instants fixed only now, after the far-future jobs are in, so adding them
      // cannot eat into the lead: whole seconds, like lastday's endTime.
      const startMs = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
      const dueAtMs = offsetsMs.map((o) => startMs + o);
      for (let i = 0; i < dueAtMs.length; i += 1000) {
        const now = Date.now();
        await queue.addBulk(
          dueAtMs.slice(i, i + 1000).map((dueAt, k) => ({
            name: NAME,
            data: { dueAt },
            opts: { delay: Math.max(0, dueAt - now), jobId: `due.${i + k}`, removeOnComplete: true },
          })),
        );
      }
      const last = dueAtMs.reduce((a, b) => Math.max(a, b), 0);
      const cpu = await cpuWindow(driver);
      await sleep(Math.max(0, last - Date.now()));
      await waitUntil('baseline delayed jobs ran', async () => lateness.length >= dueAtMs.length, 120_000);
      return { lateness, cpu: await cpu() };
    },
  );
}

/**
 * Add → processed latency of single no-op jobs added one at a time at `perSecond`
 * (the termination case's pacing); `perSecond` 0 adds them all at once.
 */
export async function addToProcessed(
  url: string,
  prefix: string,
  n: number,
  perSecond: number,
  concurrency: number,
): Promise<number[]> {
  const latency: number[] = [];
  return withQueue(
    url,
    prefix,
    concurrency,
    (job) => {
      latency.push(Date.now() - job.data.addedAt!);
    },
    async (queue) => {
      await pace(n, perSecond, async (i) => {
        await queue.add(NAME, { addedAt: Date.now() }, { ...HR_EVENT_JOB_OPTIONS, jobId: `t.${i}` });
      });
      await waitUntil('baseline jobs ran', async () => latency.length >= n, 120_000);
      return latency;
    },
  );
}

/** Calls `fn(i)` for i < n, `perSecond` times a second (0: as fast as possible, not awaited in turn). */
export async function pace(n: number, perSecond: number, fn: (i: number) => Promise<void>): Promise<void> {
  if (perSecond <= 0) {
    await Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
    return;
  }
  const started = Date.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const at = started + (i * 1000) / perSecond;
    const wait = at - Date.now();
    if (wait > 0) await sleep(wait);
    pending.push(fn(i));
  }
  await Promise.all(pending);
}
