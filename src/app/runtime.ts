/**
 * A running lastday: context, workers and HTTP API, started and stopped as one.
 * `roles` lets several processes share one Redis (api / worker / scheduler).
 */
import type { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Settings } from '../config/load.ts';
import { buildServer, type RouteRegistrar } from '../http/server.ts';
import { type Context, createContext } from './context.ts';
import type { CronWatchdogOptions } from './cronWatchdog.ts';
import { startCrons } from './crons.ts';
import { ROLE_NAMES, type RuntimeRole } from './roles.ts';
import { ROUTES } from './routes.ts';
import { startWorkers, type WorkerTuning } from './workers.ts';

export { ROLE_NAMES, type RuntimeRole } from './roles.ts';

export interface RuntimeOptions {
  settings: Settings;
  redisUrl: string;
  log: Logger;
  roles?: readonly RuntimeRole[];
  now?: () => Date;
  /** Listen address; defaults to HOST/PORT from the settings. */
  listen?: { host: string; port: number };
  env?: NodeJS.ProcessEnv;
  /** Worker knobs tests turn (src/app/workers.ts). */
  workers?: WorkerTuning;
  /** The cron watchdog's interval and patience (src/app/cronWatchdog.ts). */
  watchdog?: CronWatchdogOptions;
  /** The route table; defaults to every route (src/app/routes.ts). Tests add probes. */
  routes?: readonly RouteRegistrar[];
}

export interface Runtime {
  ctx: Context;
  server?: FastifyInstance;
  /** `http://host:port` when the API runs. */
  url?: string;
  /**
   * Stops taking jobs, lets active ones finish and closes everything, within
   * `timeoutMs` (default `workers.shutdownTimeoutMs`) whatever Redis does.
   * Past the bound every connection is cut (`forced`): a graceful close waits
   * on Redis, and a Redis that is gone never answers.
   */
  stop(options?: { timeoutMs?: number }): Promise<{ forced: boolean }>;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const roles = options.roles ?? ROLE_NAMES;
  const ctx = await createContext({
    settings: options.settings,
    redisUrl: options.redisUrl,
    log: options.log,
    ...(options.now ? { now: options.now } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  let workers: Worker[] = [];
  let crons: { stop(): Promise<void> } | undefined;
  let workersRunning = false;

  if (roles.includes('worker') || roles.includes('scheduler')) {
    workers = await startWorkers(ctx, roles, options.workers);
  }
  if (roles.includes('worker')) {
    // A LASTDAY_AUDIT_KEY set on an existing chain: seal it now, not at the next reconcile
    // (every chain: the global one and each partition's).
    const chains = new Set([ctx.audit, ...ctx.partitions.all().map((p) => ctx.shard(p).audit)]);
    for (const chain of chains) {
      await chain.sealKeyed(ctx.now().toISOString()).catch((err: Error) => {
        ctx.log.error({ err: err.message }, 'audit chain: cannot seal it under the key');
      });
    }
    workersRunning = true;
  }
  if (roles.includes('scheduler')) crons = await startCrons(ctx, options.watchdog);

  let server: FastifyInstance | undefined;
  let url: string | undefined;
  if (roles.includes('api')) {
    server = await buildServer(ctx, {
      // An API-only process has no workers of its own to wait for.
      workersReady: () => workersRunning || !roles.includes('worker'),
      routes: options.routes ?? ROUTES,
    });
    const host = options.listen?.host ?? options.settings.env.HOST;
    const port = options.listen?.port ?? options.settings.env.PORT;
    const address = await server.listen({ host, port });
    url = address.replace('[::1]', 'localhost');
  }

  let stopping: Promise<{ forced: boolean }> | undefined;
  return {
    ctx,
    ...(server ? { server } : {}),
    ...(url ? { url } : {}),
    stop(stopOptions = {}) {
      stopping ??= (async () => {
        const timeoutMs = stopOptions.timeoutMs ?? options.settings.config.workers.shutdownTimeoutMs;
        workersRunning = false;
        const graceful = (async () => {
          await server?.close();
          // Every worker at once: each lets its active jobs finish.
          await crons?.stop();
          await Promise.allSettled(workers.map((w) => w.close()));
          await ctx.close();
        })();
        if ((await settleWithin(graceful, timeoutMs)) === 'settled') return { forced: false };
        // Past the bound: a stuck connector call, or a Redis that is gone (a
        // graceful BullMQ close sends QUIT and waits for the answer). Cut every
        // connection; an active job's lock then expires and it runs again elsewhere.
        ctx.log.warn({ timeoutMs }, 'shutdown did not finish within its bound; forcing it');
        server?.server.closeAllConnections();
        ctx.connections.cutAll();
        return { forced: true };
      })();
      return stopping;
    },
  };
}

/** Whether `promise` settled (either way) within `ms`. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<'settled' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => 'settled' as const,
        () => 'settled' as const,
      ),
      bound,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
