/**
 * The notifier: decides who hears of what (contract v1.1 `notifications`),
 * renders it (src/domain/notification.ts) and puts it in the outbox queue
 * (src/queues/notifications.ts); the `notifications` worker delivers it
 * (jobs/notify.ts).
 *
 * It never throws and never waits long: a notice milestone or a hold must not
 * fail or stall because Redis was slow to take a notification. An enqueue that
 * fails or takes longer than ENQUEUE_TIMEOUT_MS is logged and counted
 * (`lastday_notification_enqueue_errors_total`), and the work goes on.
 */
import type { Logger } from 'pino';
import type { NotificationsConfig } from '../config/notifications.ts';
import { hasUrlCredentials } from '../config/crons.ts';
import { holdExpiresAt } from '../domain/action.ts';
import {
  alertMessage,
  type HeldAction,
  holdExpiringMessage,
  holdMessage,
  type Message,
  type NotificationKind,
  noticeMessage,
} from '../domain/notification.ts';
import type { PersonRecord } from '../domain/person.ts';
import {
  type NotificationChannel,
  type NotificationJobData,
  type NotificationsQueue,
  notificationJobId,
  notificationJobOptions,
} from './notifications.ts';
import type { PeopleStore } from '../store/people.ts';
import type { Alert } from '../telemetry/alerts.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/** Alerts that ops hear of by email/Slack: failed, overdue and drifting milestones. */
export const NOTIFIED_ALERTS: ReadonlySet<string> = new Set([
  'milestone_failed',
  'milestone_overdue',
  'drift',
]);

const ENQUEUE_TIMEOUT_MS = 3_000;

/** Where deliveries go, resolved once at start-up (the Slack URL is a secret from the environment). */
export interface DeliveryChannels {
  email?: { smtpUrl: string; from: string; timeoutMs: number; requireTls: boolean };
  slack?: { url: string; timeoutMs: number };
}

export interface NotifierOptions {
  config: NotificationsConfig;
  channels: DeliveryChannels;
  /** Base of console links, no trailing slash (`notifications.consoleUrl` or `http://HOST:PORT`). */
  consoleUrl: string;
  holdExpiryHours: number;
  queue: NotificationsQueue;
  /** Where an alert's person is read (their partition's store, docs/cluster.md). */
  people: Pick<PeopleStore, 'get'>;
  log: Logger;
  metrics: Metrics;
  now: () => Date;
}

/** What happened to a notification when it was handed over, for the audit of the milestone. */
export type NotifyOutcome = 'queued' | 'none' | 'enqueue_failed';

/** Reads the Slack webhook URL from the environment; a configured but missing variable is a start-up error. */
export function deliveryChannels(config: NotificationsConfig, env: NodeJS.ProcessEnv): DeliveryChannels {
  const channels: DeliveryChannels = {};
  if (config.email) channels.email = { ...config.email };
  if (config.slack) {
    const url = env[config.slack.webhookUrlEnv];
    if (!url) {
      throw new Error(
        `notifications.slack.webhookUrlEnv: environment variable ${config.slack.webhookUrlEnv} is not set`,
      );
    }
    // The URL is the secret: a failed fetch of one that does not parse, or that
    // carries user:password@, quotes it whole in its error (and so in the logs).
    if (!/^https?:\/\//.test(url) || !URL.canParse(url)) {
      throw new Error(
        `notifications.slack.webhookUrlEnv: ${config.slack.webhookUrlEnv} is not an http(s) URL`,
      );
    }
    if (hasUrlCredentials(url)) {
      throw new Error(
        `notifications.slack.webhookUrlEnv: ${config.slack.webhookUrlEnv} carries credentials (user:password@), which are never sent`,
      );
    }
    channels.slack = { url, timeoutMs: config.slack.timeoutMs };
  }
  return channels;
}

export class Notifier {
  constructor(private readonly o: NotifierOptions) {}

  get channels(): DeliveryChannels {
    return this.o.channels;
  }

  /** Whether any channel is configured (else every call is a no-op, and callers may skip their reads). */
  get enabled(): boolean {
    return Boolean(this.o.channels.email || this.o.channels.slack);
  }

  /** The console page of one hold. */
  holdLink = (actionId: string): string =>
    `${this.o.consoleUrl}/console/holds/${encodeURIComponent(actionId)}`;

  /** The `notice` milestone: the person's manager (when an email is known) and ops. Once per plan version. */
  async notice(record: PersonRecord): Promise<NotifyOutcome> {
    const to = unique([
      ...(record.person.manager?.email ? [record.person.manager.email] : []),
      ...this.o.config.ops,
    ]);
    return this.safely('notice', () =>
      this.enqueue('notice', `${record.person.id}\u0000v${record.planVersion}`, noticeMessage(record), to),
    );
  }

  /**
   * New holds (one action, or a freeze's batch held together at one instant):
   * the approvers now, with a link to each in the console; ops again
   * `holdExpiryWarningHours` before they expire, if still undecided then.
   */
  async holds(actions: readonly HeldAction[], initiator: PersonRecord | undefined): Promise<NotifyOutcome> {
    const first = actions[0];
    if (!first) return 'none';
    const expiresAtMs = holdExpiresAt(first.heldAt, this.o.holdExpiryHours);
    const expiresAt = new Date(expiresAtMs).toISOString();
    const key = `${[...actions.map((a) => a.actionId)].sort().join('\u0000')}\u0000${first.heldAt}`;
    const held = actions.map((a) => ({ actionId: a.actionId, heldAt: a.heldAt }));
    return this.safely('hold', async () => {
      const now = await this.enqueue(
        'hold',
        key,
        holdMessage(actions, initiator, expiresAt, this.holdLink),
        this.o.config.approvers,
        { heldActions: held },
      );
      const warnH = this.o.config.holdExpiryWarningHours;
      if (warnH <= 0) return now;
      const delayMs = Math.max(0, expiresAtMs - warnH * 3_600_000 - this.o.now().getTime());
      const later = await this.enqueue(
        'hold_expiring',
        key,
        holdExpiringMessage(actions, initiator, expiresAt, this.holdLink),
        this.o.config.ops,
        { heldActions: held, delayMs },
      );
      return now === 'queued' || later === 'queued' ? 'queued' : 'none';
    });
  }

  /** The alert path (src/telemetry/alerts.ts) calls this for every alert; failed, overdue and drift go to ops. */
  async alert(alert: Alert, at: Date): Promise<void> {
    if (!NOTIFIED_ALERTS.has(alert.kind)) return;
    await this.safely('alert', async () => {
      const d = alert.details ?? {};
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const facts = {
        kind: alert.kind,
        message: alert.message,
        at: at.toISOString(),
        personId: alert.personId,
        milestone: str(d.milestone),
        dueAt: str(d.dueAt),
        connector: str(d.connector),
      };
      const person = alert.personId ? await this.o.people.get(alert.personId) : undefined;
      // One mail per alert subject per UTC day: a re-raised alert (overdue re-alerts daily) is news again.
      const key = [
        alert.kind,
        alert.personId,
        alert.actionId,
        facts.milestone,
        facts.dueAt,
        facts.connector,
        facts.at.slice(0, 10),
      ].join('\u0000');
      return this.enqueue('alert', key, alertMessage(facts, person), this.o.config.ops);
    });
  }

  private async enqueue(
    kind: NotificationKind,
    key: string,
    message: Message,
    to: readonly string[],
    extra: { heldActions?: NotificationJobData['heldActions']; delayMs?: number } = {},
  ): Promise<NotifyOutcome> {
    const channels: NotificationChannel[] = [];
    if (this.o.channels.email && to.length > 0) channels.push('email');
    if (this.o.channels.slack) channels.push('slack');
    if (channels.length === 0) return 'none';
    const options = notificationJobOptions(this.o.config.attempts);
    const jobs = channels.map((channel) => ({
      name: kind,
      data: {
        kind,
        channel,
        to: channel === 'email' ? [...to] : [],
        message,
        ...(extra.heldActions ? { heldActions: extra.heldActions } : {}),
      } satisfies NotificationJobData,
      opts: {
        ...options,
        jobId: notificationJobId(kind, key, channel),
        ...(extra.delayMs ? { delay: extra.delayMs } : {}),
      },
    }));
    await this.o.queue.addBulk(jobs);
    for (const channel of channels) this.o.metrics.notifications.inc({ kind, channel, outcome: 'queued' });
    return 'queued';
  }

  /** Runs an enqueue bounded in time; any failure is logged and counted, never thrown. */
  private async safely(kind: NotificationKind, run: () => Promise<NotifyOutcome>): Promise<NotifyOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`enqueue took over ${ENQUEUE_TIMEOUT_MS} ms`)),
        ENQUEUE_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([run(), bound]);
    } catch (err) {
      this.o.metrics.notificationEnqueueErrors.inc({ kind });
      this.o.log.error(
        { notification: kind, err: (err as Error).message },
        'notification could not be queued',
      );
      return 'enqueue_failed';
    } finally {
      clearTimeout(timer);
    }
  }
}

function unique(list: readonly string[]): string[] {
  const seen = new Set<string>();
  return list.filter((a) => {
    const k = a.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
