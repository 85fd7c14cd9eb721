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
 *
 * Redis Cluster (`REDIS_CLUSTER_NODES`): the "URL" is then
 * `redis-cluster://host:port,host:port` (see `clusterUrl`), and every
 * connection is an ioredis `Cluster` that follows MOVED/ASK and re-reads the
 * slot map when a master fails over. lastday's keys all carry one hash tag
 * (`{<prefix>}`), so they live in one slot and multi-key scripts stay atomic.
 */
import type { Queue, Worker } from 'bullmq';
import calculateSlot from 'cluster-key-slot';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { isCluster, type RedisClient } from '../store/redisClient.ts';
import { RedisLossLog } from './redisLoss.ts';

export type ConnectionRole = 'producer' | 'worker';

/** A connection to a single Redis or to a Redis Cluster (src/store/redisClient.ts). */
export type { RedisClient };

const CLUSTER_SCHEME = 'redis-cluster://';

/** The connection string lastday passes around for a cluster: its seed nodes. */
export function clusterUrl(nodes: string): string {
  return `${CLUSTER_SCHEME}${nodes
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)
    .join(',')}`;
}

/** The seed nodes of a `clusterUrl`, or undefined for a plain Redis URL. */
export function clusterSeeds(url: string): { host: string; port: number }[] | undefined {
  if (!url.startsWith(CLUSTER_SCHEME)) return undefined;
  return url
    .slice(CLUSTER_SCHEME.length)
    .split(',')
    .map((seed) => {
      const at = seed.lastIndexOf(':');
      return { host: seed.slice(0, at), port: Number(seed.slice(at + 1)) };
    });
}

export { isCluster };

/**
 * The connection that holds `key`: the client itself on a single Redis, or on
 * a cluster the master node owning its slot (undefined while the slot map has
 * no owner for it, e.g. mid-failover). For key-less commands that must reach
 * that node: WAIT, CLUSTER INFO.
 */
export function slotOwner(redis: RedisClient, key: string): Redis | undefined {
  if (!isCluster(redis)) return redis;
  const master = redis.slots[calculateSlot(key)]?.[0];
  if (!master) return undefined;
  return redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === master);
}

/** Slots of a Redis Cluster (CLUSTER_SLOTS in the Redis source). */
const CLUSTER_SLOTS = 16_384;

/**
 * Whether Redis can serve lastday: PONG on a single Redis. On a cluster, every
 * slot has a master in the client's slot map and every master answers
 * `CLUSTER INFO` with `cluster_state:ok` within `timeoutMs`. Every master, not
 * only those of the global slot and the partitions': an event id or webhook id
 * (`{<prefix>:event:<id>}`, src/store/keys.ts) can hash to any slot, and a
 * master the client cannot reach answers nothing, whatever the others say
 * (they call the cluster ok until cluster-node-timeout, or for good with
 * `cluster-require-full-coverage no`).
 */
export async function redisReady(redis: RedisClient, timeoutMs = 2_000): Promise<boolean> {
  if (!isCluster(redis)) return (await redis.ping()) === 'PONG';
  const masters = redis.nodes('master');
  const known = new Set(masters.map((n) => `${n.options.host}:${n.options.port}`));
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const owner = redis.slots[slot]?.[0];
    if (owner === undefined || !known.has(owner)) return false;
  }
  const states = await Promise.all(
    masters.map(async (node) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(''), timeoutMs);
      });
      try {
        return await Promise.race([node.call('CLUSTER', 'INFO').then(String), late]);
      } catch {
        return '';
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return states.every((info) => /cluster_state:ok/.test(info));
}

export function createRedis(url: string, role: ConnectionRole, name = `lastday-${role}`): RedisClient {
  const seeds = clusterSeeds(url);
  if (seeds) return createCluster(seeds, role, name);
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
  return coalesceWrites(new Redis(url, options));
}

/**
 * Sends the commands written in one tick of the event loop in one write
 * (writev) instead of one each: the socket is corked at the first command of
 * a tick and uncorked once the tick's code has run, as Node's own HTTP server
 * does with a response. Concurrent jobs whose replies arrive together (an
 * HR event's person read, BullMQ's completions, a batch of audit scripts)
 * then cost one system call, and Redis one read, between them. Order and
 * replies are unchanged: the bytes leave in the order written; a lone command
 * waits only for the code of its own tick.
 */
function coalesceWrites(redis: Redis): Redis {
  redis.on('connect', () => {
    const socket = redis.stream;
    const write = socket.write as (...args: unknown[]) => boolean;
    socket.write = function (this: typeof socket, ...args: unknown[]) {
      if (socket.writableCorked === 0) {
        socket.cork();
        process.nextTick(() => socket.uncork());
      }
      return write.apply(this, args);
    } as typeof socket.write;
  });
  return redis;
}

function createCluster(seeds: { host: string; port: number }[], role: ConnectionRole, name: string): Cluster {
  const redisOptions: RedisOptions =
    role === 'worker'
      ? // BullMQ requires maxRetriesPerRequest: null on every node connection of a worker.
        { connectionName: name, maxRetriesPerRequest: null }
      : { connectionName: name, maxRetriesPerRequest: 1, connectTimeout: 5_000 };
  const options: ClusterOptions = {
    redisOptions,
    // No cluster ready check: with it, a client that connects or reconnects
    // while a master is failing over sees cluster_state:fail, disconnects and
    // starts over, and BullMQ workers were seen left idle with jobs waiting.
    // The cluster is usable once the slot map is read; /readyz asks
    // CLUSTER INFO itself.
    enableReadyCheck: false,
    enableOfflineQueue: true,
    // While a master is down and before its replica is promoted (about
    // cluster-node-timeout plus an election), commands to its slots fail with
    // connection errors or CLUSTERDOWN: retry them over a few seconds rather
    // than fail at the first one. Producers answer 503 past that.
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    maxRedirections: role === 'worker' ? 64 : 24,
    slotsRefreshTimeout: 2_000,
    clusterRetryStrategy: (times) => Math.min(times * 200, 5_000),
  };
  return new Cluster(seeds, options);
}

/** Resolves once the connection answers PING, or rejects after `timeoutMs`. */
export async function waitForRedis(redis: RedisClient, timeoutMs = 10_000): Promise<void> {
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
  private readonly clients = new Set<RedisClient>();
  private readonly workers = new Set<Worker>();

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    /** Where connection failures go; one per process (context). */
    readonly loss: RedisLossLog = new RedisLossLog(log),
  ) {}

  /** A new connection of `role`, watched and cut with the others. */
  open(role: ConnectionRole, name: string): RedisClient {
    return this.adopt(createRedis(this.url, role, name), name);
  }

  /** Watches a connection made elsewhere: failures to the loss log, cut with the others. */
  adopt<R extends RedisClient>(redis: R, name: string): R {
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
