/**
 * Redis connections. Producers (HTTP handlers, the CLI) fail fast so a caller
 * gets an error instead of hanging while Redis is away; workers retry forever
 * (`maxRetriesPerRequest: null`, required by BullMQ for blocking commands).
 * The key prefix is BullMQ's `prefix`, never ioredis `keyPrefix`, which BullMQ
 * does not support.
 *
 * `RedisConnections` is a process's set of them: it names each connection,
 * sends every connection failure (and BullMQ's re-emitted copies) to one
 * RedisLossLog, and can cut them all at once — the only way to end a
 * shutdown while Redis is gone, because a graceful BullMQ close sends QUIT and
 * waits for an answer that never comes.
 */
import type { Queue, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { RedisLossLog } from './redisLoss.ts';

export type ConnectionRole = 'producer' | 'worker';

export function createRedis(url: string, role: ConnectionRole, name = `lastday-${role}`): Redis {
  const common: RedisOptions = {
    connectionName: name,
    lazyConnect: false,
    // Reconnect with a capped backoff; BullMQ ≥ 6.7 resumes workers after long outages.
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  };
  const options: RedisOptions =
    role === 'worker'
      ? { ...common, maxRetriesPerRequest: null, enableReadyCheck: true }
      : { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5_000 };
  return new Redis(url, options);
}

/** Resolves once the connection answers PING, or rejects after `timeoutMs`. */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await redis.ping();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(
    `Redis did not answer within ${timeoutMs} ms: ${(lastError as Error)?.message ?? 'timeout'}`,
  );
}

export class RedisConnections {
  private readonly clients = new Set<Redis>();
  private readonly workers = new Set<Worker>();

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    /** Where connection failures go; one per process (context). */
    readonly loss: RedisLossLog = new RedisLossLog(log),
  ) {}

  /** A new connection of `role`, watched and cut with the others. */
  open(role: ConnectionRole, name: string): Redis {
    return this.adopt(createRedis(this.url, role, name), name);
  }

  /** Watches a connection made elsewhere: failures to the loss log, cut with the others. */
  adopt(redis: Redis, name: string): Redis {
    redis.on('error', (err: Error) => this.loss.failed(name, err));
    redis.on('ready', () => this.loss.ready(name));
    this.clients.add(redis);
    return redis;
  }

  /**
   * A BullMQ queue: its `error` events are its connection's failures again
   * (already counted), and without a listener BullMQ prints each one to stderr.
   */
  watchQueue<Q extends Queue>(queue: Q): Q {
    queue.on(
      'error',
      this.loss.route(`queue:${queue.name}`, (err) => this.queueError(queue.name, err)),
    );
    return queue;
  }

  /**
   * A BullMQ worker: connection failures (its own and its blocking
   * connection's) go to the loss log, anything else is logged as a worker
   * error; `cutAll` also cuts its blocking connection, which BullMQ made.
   */
  watchWorker<W extends Worker>(worker: W): W {
    worker.on(
      'error',
      this.loss.route(`worker:${worker.name}`, (err) =>
        this.log.error({ err: err.message, queue: worker.name }, 'worker error'),
      ),
    );
    this.workers.add(worker);
    return worker;
  }

  /**
   * Cuts every connection now, without asking Redis: no QUIT, no reconnects,
   * commands still queued fail. For a shutdown past its bound.
   */
  cutAll(): void {
    this.loss.silence();
    for (const worker of this.workers) {
      // Not awaited: it resolves once the socket ends, which a dead Redis may never let happen.
      void worker
        .getBackend()
        .disconnectBlocking(false)
        .catch(() => undefined);
    }
    for (const redis of this.clients) redis.disconnect();
  }

  /** Disconnects the connections opened here (the normal end, after graceful closes). */
  disconnectAll(): void {
    for (const redis of this.clients) redis.disconnect();
  }

  private queueError(queue: string, err: Error): void {
    this.log.warn({ err: err.message, queue }, 'queue error');
  }
}
