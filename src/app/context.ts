/**
 * The wiring: one place that builds the stores, queues and connectors from the
 * settings and a Redis URL. Processors, routes and CLI commands receive what
 * they need from here (narrow injected ports), and tests build a real one on
 * their own Redis and prefix.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Settings } from '../config/load.ts';
import type { Connector } from '../connectors/connector.ts';
import { createConnectors } from '../connectors/registry.ts';
import type { Policy } from '../domain/policy.ts';
import { createRedis, waitForRedis } from '../queues/connection.ts';
import { type MilestoneJobData, QUEUES } from '../queues/names.ts';
import { AuditStore } from '../store/audit.ts';
import { DirectoryStore } from '../store/directory.ts';
import { EffectsStore } from '../store/effects.ts';
import { EventsStore } from '../store/events.ts';
import { createKeys, type Keys } from '../store/keys.ts';
import { PersonLock } from '../store/lock.ts';
import { PeopleStore } from '../store/people.ts';
import { Alerter } from './alerts.ts';
import { createMetrics, type Metrics } from './metrics.ts';

export interface Context {
  settings: Settings;
  policy: Policy;
  redisUrl: string;
  prefix: string;
  log: Logger;
  now: () => Date;
  /** Fail-fast connection for producers, reads and stores. */
  redis: Redis;
  keys: Keys;
  audit: AuditStore;
  people: PeopleStore;
  effects: EffectsStore;
  events: EventsStore;
  directory: DirectoryStore;
  lock: PersonLock;
  metrics: Metrics;
  alerts: Alerter;
  connectors: Connector[];
  queues: { hrEvents: Queue; milestones: Queue<MilestoneJobData> };
  close(): Promise<void>;
}

export interface ContextOptions {
  settings: Settings;
  redisUrl: string;
  log: Logger;
  now?: () => Date;
  /** Extra environment for connector secrets; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

export async function createContext(options: ContextOptions): Promise<Context> {
  const { settings, redisUrl, log } = options;
  const now = options.now ?? (() => new Date());
  const prefix = settings.env.LASTDAY_PREFIX;
  const redis = createRedis(redisUrl, 'producer');
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  await waitForRedis(redis);
  const keys = createKeys(prefix);
  const audit = new AuditStore(redis, keys);
  const metrics = createMetrics();
  const directory = new DirectoryStore(redis, keys);
  const connectors = createConnectors(settings.config.connectors, {
    directory,
    now,
    env: options.env ?? process.env,
    log,
  });
  const queues = {
    hrEvents: new Queue(QUEUES.hrEvents, { connection: redis, prefix }),
    milestones: new Queue<MilestoneJobData>(QUEUES.milestones, { connection: redis, prefix }),
  };
  return {
    settings,
    policy: settings.config.policy,
    redisUrl,
    prefix,
    log,
    now,
    redis,
    keys,
    audit,
    people: new PeopleStore(redis, keys, audit),
    effects: new EffectsStore(redis, keys, audit),
    events: new EventsStore(redis, keys),
    directory,
    // Outlives the job lock: a holder that is slow, not dead, keeps the person even
    // if BullMQ already handed its job on; a dead holder's lock is gone within 2×.
    lock: new PersonLock(redis, keys, 2 * settings.config.workers.lockDurationMs),
    metrics,
    alerts: new Alerter(log, audit, metrics, now),
    connectors,
    queues,
    async close() {
      await Promise.allSettled([queues.hrEvents.close(), queues.milestones.close()]);
      await Promise.allSettled(connectors.map((c) => c.close?.()));
      redis.disconnect();
    },
  };
}
