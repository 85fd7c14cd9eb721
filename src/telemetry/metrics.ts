/**
 * Prometheus metrics. One registry per running lastday (tests start several in
 * one process), exposed at /metrics.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/** Values read from Redis at scrape time. */
export interface MetricSources {
  /**
   * The audit chains' stored heads (AuditStore.head): one without `chain` with
   * one partition; with partitions one per chain, `chain` being `global` or the
   * partition's number (each chain's seq must never go down on its own).
   */
  auditHeads?: () => Promise<{ chain?: string; seq: number; hash: string }[]>;
}

export function createMetrics(sources: MetricSources = {}) {
  const registry = new Registry();
  const auditHeads = scrapeOnce(sources.auditHeads);
  // Stock names (process_*, nodejs_*), so standard Node dashboards work unchanged.
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    eventsAccepted: new Counter({
      name: 'lastday_hr_events_accepted_total',
      help: 'HR events accepted, by way in',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'lastday_hr_events_rejected_total',
      help: 'HR events rejected as invalid, by way in',
      labelNames: ['source'] as const,
      registers: [registry],
    }),
    eventsApplied: new Counter({
      name: 'lastday_hr_events_applied_total',
      help: 'HR events processed by the worker, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    milestoneLateness: new Histogram({
      name: 'lastday_milestone_lateness_seconds',
      help: "Seconds from when lastday could first act on a milestone (its instant, or when a late HR event planned it) to its completion: lastday's own lateness",
      labelNames: ['milestone'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300, 900, 3600, 14400],
      registers: [registry],
    }),
    hrEventLateness: new Histogram({
      name: 'lastday_hr_event_lateness_seconds',
      help: 'Seconds a completed milestone instant had already passed when the HR event that planned it was applied (0 when planned ahead): the HR system lateness',
      labelNames: ['milestone'] as const,
      buckets: [0, 60, 900, 3600, 14400, 86400, 604800, 2592000, 31536000],
      registers: [registry],
    }),
    milestonesDone: new Counter({
      name: 'lastday_milestones_done_total',
      help: 'Milestones completed',
      labelNames: ['milestone'] as const,
      registers: [registry],
    }),
    connectorErrors: new Counter({
      name: 'lastday_connector_errors_total',
      help: 'Connector calls that failed',
      labelNames: ['connector', 'effect'] as const,
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'lastday_alerts_total',
      help: 'Alerts raised, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    overdueMilestones: new Gauge({
      name: 'lastday_milestones_overdue',
      help: 'Milestones past due by more than crons.overdue.overdueAfterMinutes and not done, per milestone (last overdue run)',
      labelNames: ['milestone'] as const,
      registers: [registry],
    }),
    holds: new Gauge({
      name: 'lastday_actions',
      help: 'Destructive actions per state (sampled at scrape)',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    cronLastRunAge: new Gauge({
      name: 'lastday_cron_last_run_age_seconds',
      help: 'Seconds since each enabled cron last completed a run (sampled at scrape; absent until its first run)',
      labelNames: ['cron'] as const,
      registers: [registry],
    }),
    gateDecisions: new Counter({
      name: 'lastday_gate_decisions_total',
      help: 'Gate decisions, by decision',
      labelNames: ['decision'] as const,
      registers: [registry],
    }),
    gateSeconds: new Histogram({
      name: 'lastday_gate_seconds',
      help: 'Time to answer a gate request inside lastday',
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25],
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'lastday_notifications_total',
      help: 'Notifications by kind, channel and outcome (queued, sent, skipped when the hold was decided meanwhile, retry, failed for good)',
      labelNames: ['kind', 'channel', 'outcome'] as const,
      registers: [registry],
    }),
    notificationEnqueueErrors: new Counter({
      name: 'lastday_notification_enqueue_errors_total',
      help: 'Notifications that could not be put in the outbox (logged; the milestone or hold went on)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    notificationDelay: new Histogram({
      name: 'lastday_notification_delay_seconds',
      help: 'Seconds from when a notification was due (queued, or its scheduled instant) to its delivery',
      labelNames: ['kind', 'channel'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300, 1800, 3600],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'lastday_queue_jobs',
      help: 'Jobs per queue and state (sampled at scrape)',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
    }),
    // The head lets an outside copy notice a rollback: seq must never go down,
    // and the hash of a seq must never change.
    auditHeadSeq: new Gauge({
      name: 'lastday_audit_head_seq',
      help: 'Seq of the newest audit entry as stored, per chain with partitions (read at scrape)',
      labelNames: ['chain'] as const,
      registers: [registry],
      async collect() {
        for (const head of (await auditHeads()) ?? []) {
          if (head.chain === undefined) this.set(head.seq);
          else this.set({ chain: head.chain }, head.seq);
        }
      },
    }),
    auditHeadInfo: new Gauge({
      name: 'lastday_audit_head_info',
      help: 'Always 1; the labels are the stored audit head, per chain with partitions (read at scrape)',
      labelNames: ['seq', 'hash', 'chain'] as const,
      registers: [registry],
      async collect() {
        const heads = await auditHeads();
        if (!heads) return;
        this.reset();
        for (const head of heads) {
          const labels = { seq: String(head.seq), hash: head.hash };
          this.set(head.chain === undefined ? labels : { ...labels, chain: head.chain }, 1);
        }
      },
    }),
  };
}

/**
 * One read per scrape for every gauge that asks (prom-client collects them
 * concurrently); undefined when there is no source or Redis is away, so the
 * scrape keeps the last sample rather than failing.
 */
function scrapeOnce<T>(read: (() => Promise<T>) | undefined): () => Promise<T | undefined> {
  let inflight: Promise<T | undefined> | undefined;
  return () => {
    if (!read) return Promise.resolve(undefined);
    inflight ??= read()
      .catch(() => undefined)
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
