/**
 * The ports processors work through, as Temporal's `createActivities(db)`:
 * stores, queue producers, connectors, telemetry and the clock, never a raw
 * Redis connection. Each processor names the few it uses (`Pick<JobPorts, …>`);
 * the composition root (src/app/context.ts) builds one of each and passes
 * them in, and tests pass real ones on their own Redis.
 */
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Settings } from '../src/config/load.ts';
import type { Connector } from '../src/connectors/connector.ts';
import type { Policy } from '../src/domain/policy.ts';
import type { GuardService } from '../src/guard/service.ts';
import type { ActionsQueue } from '../src/queues/actions.ts';
import type { NotificationsQueue } from '../src/queues/notifications.ts';
import type { Notifier } from '../src/queues/notifier.ts';
import type { MilestoneJobData } from '../src/queues/names.ts';
import type { ActionsStore } from '../src/store/actions.ts';
import type { AuditStore } from '../src/store/audit.ts';
import type { DirectoryStore } from '../src/store/directory.ts';
import type { EffectsStore } from '../src/store/effects.ts';
import type { EventsStore } from '../src/store/events.ts';
import type { PersonLock } from '../src/store/lock.ts';
import type { OpsRunsStore } from '../src/store/opsRuns.ts';
import type { PeopleStore } from '../src/store/people.ts';
import type { RetentionStore } from '../src/store/retention.ts';
import type { Alerter } from '../src/telemetry/alerts.ts';
import type { Metrics } from '../src/telemetry/metrics.ts';

/** A producer for every queue lastday runs, each built once per context. */
export interface QueuePorts {
  hrEvents: Queue;
  milestones: Queue<MilestoneJobData>;
  actions: ActionsQueue;
  ops: Queue;
  notifications: NotificationsQueue;
}

export interface JobPorts {
  settings: Settings;
  policy: Policy;
  log: Logger;
  now: () => Date;
  /**
   * A second opinion on the time (Redis `TIME`) when `now` is the system clock;
   * undefined when a clock is injected (tests drive `now` far from real time).
   */
  referenceNowMs?: () => Promise<number>;
  audit: AuditStore;
  people: PeopleStore;
  effects: EffectsStore;
  events: EventsStore;
  directory: DirectoryStore;
  actions: ActionsStore;
  retention: RetentionStore;
  /** The last completed run of each cron task, and the overdue marks. */
  opsRuns: OpsRunsStore;
  lock: PersonLock;
  metrics: Metrics;
  alerts: Alerter;
  /** Who is told of notices, holds and alerts (the outbox producer); never throws. */
  notifier: Notifier;
  connectors: Connector[];
  queues: QueuePorts;
  /** Which of these milestone job ids exist on the queue, in order (src/queues/milestones.ts). */
  milestoneJobsExist: (jobIds: readonly string[]) => Promise<boolean[]>;
  /** The action gate: always built in (the `freeze` milestone holds through it). */
  guard: GuardService;
}
