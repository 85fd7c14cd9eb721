/**
 * The table of workers: every queue lastday consumes, its processor, the role
 * that runs it, concurrency, backoff and lock options, written once.
 * `startWorkers` builds the workers of a role from it; nothing else creates a
 * BullMQ Worker.
 */
import { type Job, type KeepJobs, type Processor, Worker, type WorkerOptions } from 'bullmq';
import { createActionsProcessor } from '../../jobs/actions.ts';
import { createHrEventProcessor, createUnparsableHrEventHandler } from '../../jobs/hrEvent.ts';
import { createMilestoneProcessor } from '../../jobs/milestone.ts';
import { createNotifyProcessor } from '../../jobs/notify.ts';
import { createOpsProcessor } from '../../jobs/ops/tasks.ts';
import type { Config } from '../config/schema.ts';
import { ACTION_RETENTION, CALLBACK_BACKOFF } from '../queues/actions.ts';
import { cappedBackoff } from '../queues/backoff.ts';
import { syncJobSchedulers } from '../queues/crons.ts';
import { HR_EVENT_BACKOFF, HR_EVENT_RETENTION, hrEventBackoffMs } from '../queues/intake.ts';
import { JsonSafeWorker } from '../queues/jsonSafeWorker.ts';
import { MILESTONE_BACKOFF } from '../queues/milestones.ts';
import { QUEUES } from '../queues/names.ts';
import { NOTIFICATION_RETENTION, NOTIFY_BACKOFF, notifyBackoffMs } from '../queues/notifications.ts';
import type { Context } from './context.ts';
import type { RuntimeRole } from './roles.ts';

/** Knobs tests turn (defaults are production's). */
export interface WorkerTuning {
  /** First callback retry delay; doubles per attempt, capped at 5 minutes. Default 1000 ms. */
  callbackRetryBaseMs?: number;
}

type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * How many finished jobs BullMQ keeps, and how long. Set on the worker, not in
 * each job's options: a job's stored `opts` stays short, and jobs that other
 * clients add (contract way 1 for `hr-events`) are bounded too. A job that
 * names its own `removeOnComplete`/`removeOnFail` keeps its choice.
 */
export interface Retention {
  completed: KeepJobs;
  failed: KeepJobs;
}

export interface WorkerSpec {
  queue: QueueName;
  /** The role whose processes run this worker. */
  role: RuntimeRole;
  /** Connection name, as Redis `CLIENT LIST` shows it. */
  connectionName: string;
  processor: (ctx: Context) => Processor;
  concurrency: (config: Config) => number;
  /**
   * `job`: the job lock lasts `workers.lockDurationMs` and a stalled job is
   * always put back. A killed worker's jobs are found stalled and run again after
   * about one lock duration; BullMQ fails a job for good once it stalled more
   * than `maxStalledCount` times (default 1), so two worker crashes would lose a
   * revoke, an acknowledged HR event or a managed action. Reruns are safe
   * (effects are recorded once; the per-action claim keeps a callback to one
   * success). A number: a fixed lock duration with BullMQ's stall handling.
   */
  lock: 'job' | number;
  retention?: Retention;
  /** Custom backoff types, by name (job options name them; any other type waits 1 s). */
  backoff?: (tuning: WorkerTuning) => Record<string, (attemptsMade: number) => number>;
  /**
   * One queue per partition (`{<prefix>:<p>}`), each consumed by its own worker
   * on that partition's ports (ctx.shard(p)). Otherwise one global queue.
   */
  partitioned?: boolean;
  /** Any client may write this queue: data that is not JSON is handed here and failed once. */
  unparsable?: (ctx: Context) => (job: Job, raw: string, reason: string) => Promise<void>;
}

/**
 * Finished milestone jobs kept. Milestone jobs still name the same retention in
 * their own options (src/queues/milestones.ts), which wins; these apply to
 * jobs added without it.
 */
const MILESTONE_RETENTION: Retention = {
  completed: { age: 7 * 24 * 3600, count: 50_000 },
  failed: { age: 30 * 24 * 3600 },
};

export const WORKERS: readonly WorkerSpec[] = [
  {
    queue: QUEUES.hrEvents,
    role: 'worker',
    connectionName: 'lastday-hr-events',
    // The intake queue is global (external producers write `{<prefix>}`); each
    // event is applied on its person's partition.
    processor: (ctx) => byPerson(ctx, (shard) => createHrEventProcessor(shard)),
    concurrency: (config) => config.workers.eventConcurrency,
    lock: 'job',
    retention: HR_EVENT_RETENTION,
    backoff: () => ({ [HR_EVENT_BACKOFF]: (attempts) => hrEventBackoffMs(attempts) }),
    unparsable: (ctx) => createUnparsableHrEventHandler(ctx),
  },
  {
    queue: QUEUES.milestones,
    role: 'worker',
    connectionName: 'lastday-milestones',
    partitioned: true,
    processor: (ctx) => createMilestoneProcessor(ctx),
    concurrency: (config) => config.workers.milestoneConcurrency,
    lock: 'job',
    retention: MILESTONE_RETENTION,
    backoff: () => ({ [MILESTONE_BACKOFF]: (attempts) => cappedBackoff(attempts) }),
  },
  {
    queue: QUEUES.actions,
    role: 'worker',
    connectionName: 'lastday-actions',
    partitioned: true,
    processor: (ctx) =>
      createActionsProcessor({ ...ctx, actionSecret: ctx.settings.env.LASTDAY_ACTION_SECRET }) as Processor,
    concurrency: () => 20,
    lock: 'job',
    retention: ACTION_RETENTION,
    backoff: ({ callbackRetryBaseMs = 1_000 }) => ({
      [CALLBACK_BACKOFF]: (attempts) =>
        Math.min(callbackRetryBaseMs * 2 ** Math.max(0, attempts - 1), 300_000),
    }),
  },
  {
    // The outbox: a slow or dead mail server or Slack never holds up the timeline's workers.
    queue: QUEUES.notifications,
    role: 'worker',
    connectionName: 'lastday-notifications',
    processor: (ctx) => createNotifyProcessor(ctx) as Processor,
    concurrency: () => 10,
    lock: 'job',
    retention: NOTIFICATION_RETENTION,
    backoff: () => ({ [NOTIFY_BACKOFF]: (attempts) => notifyBackoffMs(attempts) }),
  },
  {
    queue: QUEUES.ops,
    role: 'scheduler',
    connectionName: 'lastday-ops',
    processor: (ctx) =>
      createOpsProcessor({
        ...ctx,
        ...partitionPortsOf(ctx),
        syncCrons: () => syncJobSchedulers(ctx.queues.ops, ctx.settings.config.crons, ctx.redis),
      }),
    // One task at a time per process.
    concurrency: () => 1,
    // A reconcile of a large population outlasts the default 30 s lock easily; the
    // lock is renewed while it runs, this only bounds a crashed holder.
    lock: 120_000,
  },
];

/** Starts the workers of `roles` from the table and waits until each is ready. */
export async function startWorkers(
  ctx: Context,
  roles: readonly RuntimeRole[],
  tuning: WorkerTuning = {},
): Promise<Worker[]> {
  const { config } = ctx.settings;
  const instances = WORKERS.filter((spec) => roles.includes(spec.role)).flatMap((spec) =>
    spec.partitioned
      ? ctx.partitions
          .all()
          .map((p) => ({ spec, on: ctx.shard(p), suffix: ctx.partitions.count > 1 ? `-${p}` : '' }))
      : [{ spec, on: ctx, suffix: '' }],
  );
  const workers = instances.map(({ spec, on, suffix }) => {
    const options: WorkerOptions = {
      connection: ctx.connections.open('worker', `${spec.connectionName}${suffix}`),
      prefix: on.prefix,
      concurrency: spec.concurrency(config),
      ...(spec.lock === 'job'
        ? {
            lockDuration: config.workers.lockDurationMs,
            stalledInterval: config.workers.lockDurationMs,
            maxStalledCount: Number.MAX_SAFE_INTEGER,
          }
        : { lockDuration: spec.lock }),
      ...(spec.retention
        ? { removeOnComplete: spec.retention.completed, removeOnFail: spec.retention.failed }
        : {}),
    };
    const strategies = spec.backoff?.(tuning);
    if (strategies) {
      options.settings = {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          (type !== undefined ? strategies[type]?.(attemptsMade) : undefined) ?? 1_000,
      };
    }
    const processor = spec.processor(on);
    const worker = spec.unparsable
      ? new JsonSafeWorker(spec.queue, processor, { ...options, onUnparsableData: spec.unparsable(ctx) })
      : new Worker(spec.queue, processor, options);
    ctx.connections.watchWorker(worker);
    if (spec.role === 'scheduler') {
      worker.on('completed', (job, result) =>
        ctx.log.info({ task: job.name, result: summary(result) }, 'ops task done'),
      );
      worker.on('failed', (job, err) =>
        ctx.log.error({ task: job?.name, err: err.message }, 'ops task failed'),
      );
    } else {
      worker.on('failed', (job, err) =>
        ctx.log.warn(
          { queue: spec.queue, jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
          'job failed',
        ),
      );
    }
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  return workers;
}

/** The ops tasks' per-partition ports (jobs/ops/tasks.ts), when there is more than one partition. */
export function partitionPortsOf(ctx: Context): { partitionPorts?: Context[] } {
  return ctx.partitions.count > 1 ? { partitionPorts: ctx.partitions.all().map((p) => ctx.shard(p)) } : {};
}

/**
 * A processor of a global queue whose jobs name a person (`data.person.id`):
 * each job runs on its person's partition, with that partition's processor
 * (built once per partition). Jobs without a person id run on the global
 * ports (the processor rejects them).
 *
 * It takes two parameters, not BullMQ's optional third (an AbortSignal): no
 * processor here uses one, and BullMQ builds an AbortController for every job
 * of a processor whose length is 3 or more (3–6 µs of CPU and garbage per HR
 * event in the ingest bench).
 */
function byPerson(ctx: Context, make: (shard: Context) => Processor): Processor {
  const built = new Map<Context, Processor>();
  return (job, token) => {
    const id: unknown = (job.data as { person?: { id?: unknown } } | undefined)?.person?.id;
    const shard = typeof id === 'string' ? ctx.shardOf(id) : ctx;
    let processor = built.get(shard);
    if (!processor) {
      processor = make(shard);
      built.set(shard, processor);
    }
    return processor(job, token);
  };
}

/** Drops long lists from a task result for the log line. */
function summary(result: unknown): unknown {
  if (!result || typeof result !== 'object') return result;
  return Object.fromEntries(
    Object.entries(result).map(([k, v]) => [k, Array.isArray(v) && v.length > 10 ? `${v.length} items` : v]),
  );
}
