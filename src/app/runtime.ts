/**
 * A running lastday: context, workers and HTTP API, started and stopped as one.
 * `roles` lets several processes share one Redis (api / worker / scheduler).
 */
import { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { cappedBackoff } from '../../jobs/backoff.ts';
import { createHrEventProcessor, createUnparsableHrEventHandler } from '../../jobs/hrEvent.ts';
import { createMilestoneProcessor, type MilestoneHooks } from '../../jobs/milestone.ts';
import type { Settings } from '../config/load.ts';
import { buildServer, type RouteRegistrar } from '../http/server.ts';
import { createRedis } from '../queues/connection.ts';
import { JsonSafeWorker } from '../queues/jsonSafeWorker.ts';
import { MILESTONE_BACKOFF } from '../queues/milestones.ts';
import { QUEUES } from '../queues/names.ts';
import { type Context, createContext } from './context.ts';
import { builtinExtensions } from './features.ts';

export const ROLE_NAMES = ['api', 'worker', 'scheduler'] as const;
export type RuntimeRole = (typeof ROLE_NAMES)[number];

export interface RuntimeOptions {
  settings: Settings;
  redisUrl: string;
  log: Logger;
  roles?: readonly RuntimeRole[];
  now?: () => Date;
  /** Listen address; defaults to HOST/PORT from the settings. */
  listen?: { host: string; port: number };
  env?: NodeJS.ProcessEnv;
  /** Feature modules; defaults to every built-in one (src/app/features.ts). */
  extensions?: readonly Extension[];
}

export interface Runtime {
  ctx: Context;
  server?: FastifyInstance;
  /** `http://host:port` when the API runs. */
  url?: string;
  /** Stops taking jobs, lets active ones finish (bounded), closes everything. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/** Parts contributed by later features (the action gate, ops), kept out of the core wiring. */
export interface Extension {
  routes?: RouteRegistrar[];
  milestoneHooks?: (ctx: Context) => MilestoneHooks;
  start?: (ctx: Context, roles: readonly RuntimeRole[]) => Promise<{ stop(): Promise<void> }>;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const roles = options.roles ?? ROLE_NAMES;
  const extensions = options.extensions ?? builtinExtensions;
  const ctx = await createContext({
    settings: options.settings,
    redisUrl: options.redisUrl,
    log: options.log,
    ...(options.now ? { now: options.now } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const workers: Worker[] = [];
  const workerConnections: Redis[] = [];
  const workerConnection = (name: string) => {
    const redis = createRedis(options.redisUrl, 'worker', name);
    redis.on('error', () => undefined); // reported by the worker's own error event
    workerConnections.push(redis);
    return redis;
  };
  const started: { stop(): Promise<void> }[] = [];
  let workersRunning = false;

  if (roles.includes('worker')) {
    const { config } = options.settings;
    // A killed worker's jobs are found stalled and run again after about one lock
    // duration. BullMQ fails a job for good once it stalled more than
    // `maxStalledCount` times (default 1): two worker crashes would then lose a
    // revoke or an acknowledged HR event. Reruns are safe (effects are recorded
    // once), so a stalled job is always put back.
    const lockOptions = {
      lockDuration: config.workers.lockDurationMs,
      stalledInterval: config.workers.lockDurationMs,
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    };
    const hooks: MilestoneHooks = Object.assign({}, ...extensions.map((e) => e.milestoneHooks?.(ctx) ?? {}));
    workers.push(
      // Any client may write this queue: data that is not JSON is rejected, not looped on.
      new JsonSafeWorker(QUEUES.hrEvents, createHrEventProcessor(ctx), {
        onUnparsableData: createUnparsableHrEventHandler(ctx),
        connection: workerConnection('lastday-hr-events'),
        prefix: ctx.prefix,
        concurrency: config.workers.eventConcurrency,
        ...lockOptions,
      }),
      new Worker(QUEUES.milestones, createMilestoneProcessor(ctx, hooks), {
        connection: workerConnection('lastday-milestones'),
        prefix: ctx.prefix,
        concurrency: config.workers.milestoneConcurrency,
        ...lockOptions,
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string) =>
            type === MILESTONE_BACKOFF ? cappedBackoff(attemptsMade) : 1_000,
        },
      }),
    );
    for (const w of workers) {
      w.on('error', (err) => ctx.log.error({ err: err.message, queue: w.name }, 'worker error'));
      w.on('failed', (job, err) =>
        ctx.log.warn(
          { queue: w.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
          'job failed',
        ),
      );
    }
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    // A LASTDAY_AUDIT_KEY set on an existing chain: seal it now, not at the next reconcile.
    await ctx.audit.sealKeyed(ctx.now().toISOString()).catch((err: Error) => {
      ctx.log.error({ err: err.message }, 'audit chain: cannot seal it under the key');
    });
    workersRunning = true;
  }
  for (const e of extensions) if (e.start) started.push(await e.start(ctx, roles));

  let server: FastifyInstance | undefined;
  let url: string | undefined;
  if (roles.includes('api')) {
    server = await buildServer(ctx, {
      // An API-only process has no workers of its own to wait for.
      workersReady: () => workersRunning || !roles.includes('worker'),
      routes: extensions.flatMap((e) => e.routes ?? []),
    });
    const host = options.listen?.host ?? options.settings.env.HOST;
    const port = options.listen?.port ?? options.settings.env.PORT;
    const address = await server.listen({ host, port });
    url = address.replace('[::1]', 'localhost');
  }

  let stopping: Promise<void> | undefined;
  return {
    ctx,
    ...(server ? { server } : {}),
    ...(url ? { url } : {}),
    stop(stopOptions = {}) {
      stopping ??= (async () => {
        const timeoutMs = stopOptions.timeoutMs ?? 15_000;
        workersRunning = false;
        await server?.close();
        for (const s of started) await s.stop().catch(() => undefined);
        // Close lets active jobs finish; past the bound, force so a stuck connector
        // call cannot hold shutdown (its job's lock expires and it is retried).
        await withTimeout(Promise.all(workers.map((w) => w.close())), timeoutMs).catch(async () => {
          ctx.log.warn('active jobs did not finish in time; forcing worker shutdown');
          await Promise.allSettled(workers.map((w) => w.close(true)));
        });
        for (const redis of workerConnections) redis.disconnect();
        await ctx.close();
      })();
      return stopping;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
