/**
 * The wiring: one place that builds the stores, queues and connectors from the
 * settings and a Redis URL. Processors, routes and CLI commands receive what
 * they need from here (narrow injected ports), and tests build a real one on
 * their own Redis and prefix.
 */
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { JobPorts } from '../../jobs/ports.ts';
import type { Settings } from '../config/load.ts';
import type { Connector } from '../connectors/connector.ts';
import { createConnectors } from '../connectors/registry.ts';
import { RoutedGuard } from '../guard/routed.ts';
import { GuardService } from '../guard/service.ts';
import type { ActionJobData, ActionJobName } from '../queues/actions.ts';
import { clusterSeeds, RedisConnections, type RedisClient, waitForRedis } from '../queues/connection.ts';
import { existingJobs } from '../queues/milestones.ts';
import { ReplicaWait } from '../queues/replicaWait.ts';
import { type MilestoneJobData, QUEUES } from '../queues/names.ts';
import { ActionIndex } from '../store/actionIndex.ts';
import { ActionsStore } from '../store/actions.ts';
import type { NotificationsQueue } from '../queues/notifications.ts';
import { AuditStore } from '../store/audit.ts';
import { ConsoleSessionStore } from '../store/consoleSessions.ts';
import { redisTimeMs } from '../store/clock.ts';
import { DirectoryStore } from '../store/directory.ts';
import { DirectoryRevoke } from '../store/directoryRevoke.ts';
import { EffectsStore } from '../store/effects.ts';
import { EventsStore } from '../store/events.ts';
import { clusterPrefix, createKeys, type Keys } from '../store/keys.ts';
import { PersonLock } from '../store/lock.ts';
import { OpsRunsStore } from '../store/opsRuns.ts';
import { loadLayout, Partitions } from '../store/partitions.ts';
import { PeopleStore } from '../store/people.ts';
import { RoutedPeopleStore } from '../store/routedPeople.ts';
import { RetentionStore } from '../store/retention.ts';
import { Alerter, type AlertWebhook } from '../telemetry/alerts.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { deliveryChannels, Notifier } from '../queues/notifier.ts';

/**
 * Everything a running lastday is made of: the ports processors and routes
 * use (jobs/ports.ts), plus the connections they ride on.
 */
export interface Context extends JobPorts {
  redisUrl: string;
  prefix: string;
  /**
   * Fail-fast connection for lastday's stores and reads. BullMQ's queues have
   * their own (see createContext): ioredis copies every script command a
   * connection has into each pipeline it builds, and BullMQ defines ~100, so a
   * store's MULTI on BullMQ's connection costs that copy every time.
   */
  redis: RedisClient;
  /**
   * Every Redis connection of this context (workers open theirs here): one
   * log for a lost Redis, and a way to cut them all when shutdown is forced.
   */
  connections: RedisConnections;
  keys: Keys;
  /** `WAIT` for one replica before acknowledging a write (no-op without replicas). */
  replicas: ReplicaWait;
  /** Web console sessions (src/console), checked by the access hook on session routes. */
  consoleSessions: ConsoleSessionStore;
  /**
   * Where people live (`LASTDAY_PARTITIONS`, docs/cluster.md). This context's
   * own stores are the global ones (`prefix`); a person's are `shardOf(id)`'s.
   */
  partitions: Partitions;
  /**
   * With more than one partition: action id → home person, so a call by
   * action id reads one partition (store/actionIndex.ts).
   */
  actionIndex?: ActionIndex | undefined;
  /**
   * The ports of partition `p`: its people, effects, actions, audit chain,
   * lock, milestones and actions queues and guard, over the same connection;
   * intake, events, ops runs, alerts and the other queues are the global ones
   * (the directory store is shared and routes each person to their partition). With one partition on its own prefix, the context itself.
   */
  shard(p: number): Context;
  /** `shard(partitionOf(personId))`. */
  shardOf(personId: string): Context;
  /** Closes a shard's own queue producers (the context's `close` closes them all). */
  closeQueues(): Promise<void>;
  close(): Promise<void>;
}

export interface ContextOptions {
  settings: Settings;
  redisUrl: string;
  log: Logger;
  now?: () => Date;
  /** Extra environment for connector secrets; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Build the configured connectors (default true). CLI commands that never
   * touch access elsewhere pass false, so they need no connector secrets.
   */
  connectors?: boolean;
}

/** The alert webhook, when configured and its secret is in the environment. */
function alertWebhook(settings: Settings, env: NodeJS.ProcessEnv): AlertWebhook | undefined {
  const { webhookUrl, secretEnv, timeoutMs } = settings.config.alerts;
  if (!webhookUrl || !secretEnv) return undefined;
  const secret = env[secretEnv];
  if (!secret) throw new Error(`alerts.secretEnv: environment variable ${secretEnv} is not set`);
  return { url: webhookUrl, secret, timeoutMs };
}

export async function createContext(options: ContextOptions): Promise<Context> {
  const { settings, redisUrl, log } = options;
  const now = options.now ?? (() => new Date());
  // On a cluster every key must hash to lastday's slot (loadSettings tags it already).
  const prefix = clusterSeeds(redisUrl)
    ? clusterPrefix(settings.env.LASTDAY_PREFIX)
    : settings.env.LASTDAY_PREFIX;
  // Checked before any connection opens, so a missing secret leaks nothing.
  const webhook = alertWebhook(settings, options.env ?? process.env);
  const channels = deliveryChannels(settings.config.notifications, options.env ?? process.env);
  const connections = new RedisConnections(redisUrl, log);
  const redis = connections.open('producer', 'lastday-stores');
  const queueRedis = connections.open('producer', 'lastday-producer');
  try {
    await Promise.all([waitForRedis(redis), waitForRedis(queueRedis)]);
  } catch (err) {
    connections.disconnectAll();
    throw err;
  }
  const keys = createKeys(prefix);
  let partitions: Partitions;
  try {
    partitions = new Partitions(prefix, await loadLayout(redis, prefix, settings.env.LASTDAY_PARTITIONS));
  } catch (err) {
    connections.disconnectAll();
    throw err;
  }
  const audit = new AuditStore(redis, keys, { key: settings.env.LASTDAY_AUDIT_KEY });
  const actionIndex = partitions.count > 1 ? new ActionIndex(redis, keys) : undefined;
  const metrics = createMetrics({ auditHead: () => audit.head() });
  // A directory user's keys are in their person's partition (docs/cluster.md).
  const directory = new DirectoryStore(redis, keys, (id) => partitions.keys(partitions.partitionOf(id)));
  let connectors: Connector[] = [];
  try {
    if (options.connectors !== false)
      connectors = createConnectors(settings.config.connectors, {
        directory,
        // One script touches the directory user, the person's effects and their
        // audit chain, all in the person's partition (one slot). Routed when a
        // revoke runs, after every shard is built.
        directoryRevoke: new DirectoryRevoke(redis, keys, audit, (id) => {
          const shard = shardAt(partitions.partitionOf(id));
          return { keys: shard.keys, audit: shard.audit };
        }),
        now,
        env: options.env ?? process.env,
        log,
      });
  } catch (err) {
    connections.disconnectAll(); // a config error must not leave a connection open
    throw err;
  }
  const queues = {
    hrEvents: connections.watchQueue(new Queue(QUEUES.hrEvents, { connection: queueRedis, prefix })),
    milestones: connections.watchQueue(
      new Queue<MilestoneJobData>(QUEUES.milestones, { connection: queueRedis, prefix }),
    ),
    actions: connections.watchQueue(
      new Queue<ActionJobData, unknown, ActionJobName>(QUEUES.actions, { connection: queueRedis, prefix }),
    ),
    ops: connections.watchQueue(new Queue(QUEUES.ops, { connection: queueRedis, prefix })),
    notifications: connections.watchQueue(
      new Queue(QUEUES.notifications, { connection: queueRedis, prefix }) as NotificationsQueue,
    ),
  };
  const notifierOf = (people: Pick<PeopleStore, 'get'>) =>
    new Notifier({
      config: settings.config.notifications,
      channels,
      consoleUrl:
        settings.config.notifications.consoleUrl ?? consoleBase(settings.env.HOST, settings.env.PORT),
      holdExpiryHours: settings.config.policy.holdExpiryHours,
      queue: queues.notifications,
      people,
      log,
      metrics,
      now,
    });
  // With partitions, the global people store routes to each person's
  // partition and walks them all for listings (roster sync, alerts, counts).
  const people =
    partitions.prefixOf(0) === prefix
      ? new PeopleStore(redis, keys, audit)
      : new RoutedPeopleStore(redis, keys, audit, partitions, (p) => shardAt(p).people);
  const notifier = notifierOf(people);
  const shards = new Map<number, Context>();
  const ports: Omit<Context, 'guard' | 'closeQueues'> = {
    settings,
    policy: settings.config.policy,
    redisUrl,
    prefix,
    log,
    now,
    ...(options.now ? {} : { referenceNowMs: () => redisTimeMs(redis) }),
    redis,
    connections,
    keys,
    replicas: new ReplicaWait(redis, keys.peopleByEnd, settings.env.LASTDAY_REPLICA_WAIT_MS, log),
    audit,
    people,
    effects: new EffectsStore(redis, keys, audit),
    events: new EventsStore(redis, keys),
    directory,
    actions: new ActionsStore(redis, keys, audit),
    consoleSessions: new ConsoleSessionStore(redis, keys),
    retention: new RetentionStore(redis, keys),
    opsRuns: new OpsRunsStore(redis, keys),
    // Outlives the job lock: a holder that is slow, not dead, keeps the person even
    // if BullMQ already handed its job on; a dead holder's lock is gone within 2×.
    lock: new PersonLock(redis, keys, 2 * settings.config.workers.lockDurationMs),
    metrics,
    alerts: new Alerter(log, audit, metrics, now, webhook, (alert, at) => notifier.alert(alert, at)),
    notifier,
    connectors,
    queues,
    milestoneJobsExist: (jobIds) => existingJobs(queues.milestones, redis, jobIds),
    partitions,
    actionIndex,
    shard: (p) => shardAt(p),
    shardOf: (personId) => shardAt(partitions.partitionOf(personId)),
    async close() {
      await Promise.allSettled([...shards.values()].filter((c) => c !== ctx).map((c) => c.closeQueues()));
      await Promise.allSettled(Object.values(queues).map((q) => q.close()));
      await Promise.allSettled(connectors.map((c) => c.close?.()));
      connections.disconnectAll();
    },
  };
  /**
   * Partition `p`'s ports, built once: per-person stores on the partition's
   * keys, its audit chain, its milestones and actions queues, its guard.
   */
  const shardAt = (p: number): Context => {
    const built = shards.get(p);
    if (built) return built;
    const shardPrefix = partitions.prefixOf(p);
    if (shardPrefix === prefix) {
      shards.set(p, ctx);
      return ctx;
    }
    const k = partitions.keys(p);
    const shardAudit = new AuditStore(redis, k, { key: settings.env.LASTDAY_AUDIT_KEY });
    const shardPeople = new PeopleStore(redis, k, shardAudit);
    const shardQueues = {
      ...queues,
      milestones: connections.watchQueue(
        new Queue<MilestoneJobData>(QUEUES.milestones, { connection: queueRedis, prefix: shardPrefix }),
      ),
      actions: connections.watchQueue(
        new Queue<ActionJobData, unknown, ActionJobName>(QUEUES.actions, {
          connection: queueRedis,
          prefix: shardPrefix,
        }),
      ),
    };
    const shardPorts: Omit<Context, 'guard' | 'closeQueues'> = {
      ...ports,
      prefix: shardPrefix,
      keys: k,
      audit: shardAudit,
      people: shardPeople,
      effects: new EffectsStore(redis, k, shardAudit),
      actions: new ActionsStore(redis, k, shardAudit),
      retention: new RetentionStore(redis, k, actionIndex),
      // Intake idempotency (event seen, webhook ids, rejected) is global; that
      // an event was applied to its person is the person's partition's.
      events: new EventsStore(redis, { ...keys, eventApplied: k.eventApplied }),
      lock: new PersonLock(redis, k, 2 * settings.config.workers.lockDurationMs),
      // An action is acknowledged by the master of its partition's slot.
      replicas: new ReplicaWait(redis, k.peopleByEnd, settings.env.LASTDAY_REPLICA_WAIT_MS, log),
      notifier: notifierOf(shardPeople),
      queues: shardQueues,
      milestoneJobsExist: (jobIds) => existingJobs(shardQueues.milestones, redis, jobIds),
      async close() {
        await ctx.close();
      },
    };
    const shard: Context = {
      ...shardPorts,
      guard: new GuardService({
        ...shardPorts,
        queue: shardQueues.actions,
        guardInputsOf: (id) => shardAt(partitions.partitionOf(id)).actions.guardInputsOf(id),
        actionIndex,
      }),
      closeQueues: async () => {
        await Promise.allSettled([shardQueues.milestones.close(), shardQueues.actions.close()]);
      },
    };
    shards.set(p, shard);
    return shard;
  };
  // Always built: a lastday without the gate would record `freeze` as done having held nothing.
  const ctx: Context = {
    ...ports,
    guard:
      partitions.prefixOf(0) === prefix || !actionIndex
        ? new GuardService({ ...ports, queue: queues.actions })
        : new RoutedGuard(
            { ...ports, queue: queues.actions },
            partitions,
            (p) => shardAt(p).guard,
            actionIndex,
          ),
    closeQueues: async () => undefined,
  };
  // Built now so a worker or route never builds one mid-request.
  for (const p of partitions.all()) shardAt(p);
  // Actions written before the index existed (or while there was one
  // partition): indexed once, so registration conflicts see them.
  if (actionIndex && !(await actionIndex.complete())) {
    try {
      const n = await actionIndex.backfill(partitions.all().map((p) => partitions.keys(p)));
      log.info({ actions: n }, 'action index filled in');
    } catch (err) {
      await ctx.close();
      throw err;
    }
  }
  return ctx;
}

/** The default base of console links: where the API listens (set `notifications.consoleUrl` behind a proxy). */
function consoleBase(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
