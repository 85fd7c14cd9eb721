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
import { GuardService } from '../guard/service.ts';
import type { ActionJobData, ActionJobName } from '../queues/actions.ts';
import { clusterSeeds, RedisConnections, type RedisClient, waitForRedis } from '../queues/connection.ts';
import { existingJobs } from '../queues/milestones.ts';
import { ReplicaWait } from '../queues/replicaWait.ts';
import { type MilestoneJobData, QUEUES } from '../queues/names.ts';
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
import { PeopleStore } from '../store/people.ts';
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
  const audit = new AuditStore(redis, keys, { key: settings.env.LASTDAY_AUDIT_KEY });
  const metrics = createMetrics({ auditHead: () => audit.head() });
  const directory = new DirectoryStore(redis, keys);
  let connectors: Connector[] = [];
  try {
    if (options.connectors !== false)
      connectors = createConnectors(settings.config.connectors, {
        directory,
        directoryRevoke: new DirectoryRevoke(redis, keys, audit),
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
  const people = new PeopleStore(redis, keys, audit);
  const notifier = new Notifier({
    config: settings.config.notifications,
    channels,
    consoleUrl: settings.config.notifications.consoleUrl ?? consoleBase(settings.env.HOST, settings.env.PORT),
    holdExpiryHours: settings.config.policy.holdExpiryHours,
    queue: queues.notifications,
    people,
    log,
    metrics,
    now,
  });
  const ports: Omit<Context, 'guard'> = {
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
    async close() {
      await Promise.allSettled(Object.values(queues).map((q) => q.close()));
      await Promise.allSettled(connectors.map((c) => c.close?.()));
      connections.disconnectAll();
    },
  };
  // Always built: a lastday without the gate would record `freeze` as done having held nothing.
  return { ...ports, guard: new GuardService({ ...ports, queue: queues.actions }) };
}

/** The default base of console links: where the API listens (set `notifications.consoleUrl` behind a proxy). */
function consoleBase(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
