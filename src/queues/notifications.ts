/**
 * The notifications outbox (queue `notifications`): one job per notification
 * and channel, so a Slack outage never re-sends a mail that already went out.
 * Job ids are deterministic (kind + subject + what makes it new, such as the
 * plan version or the hold instant): enqueueing the same notification twice is
 * a no-op, whichever process or retry does it. Delivery retries with a capped
 * exponential backoff (the worker's NOTIFY_BACKOFF strategy).
 */
import { createHash } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import type { Message, NotificationKind } from '../domain/notification.ts';

export type NotificationChannel = 'email' | 'slack';

export interface NotificationJobData {
  kind: NotificationKind;
  channel: NotificationChannel;
  /** Email recipients; empty for Slack. */
  to: string[];
  message: Message;
  /**
   * Held actions the notification is about: at delivery, the ones no longer
   * held are dropped, and with none left nothing is sent (decided meanwhile).
   */
  heldActions?: { actionId: string; heldAt: string }[];
}

export type NotificationsQueue = Queue<NotificationJobData, unknown, NotificationKind>;

/** Backoff type registered on the notifications worker. */
export const NOTIFY_BACKOFF = 'lastday-notify';

/** Delay before retry `attemptsMade`: 1 s, 2 s, 4 s … capped at 5 minutes. */
export function notifyBackoffMs(attemptsMade: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, attemptsMade - 1), 300_000);
}

export function notificationJobOptions(attempts: number): JobsOptions {
  return { attempts, backoff: { type: NOTIFY_BACKOFF } };
}

/**
 * Finished notification jobs kept, set on the worker: a week, because the
 * deterministic id dedupes a repeat within that time.
 */
export const NOTIFICATION_RETENTION = {
  completed: { age: 7 * 24 * 3600, count: 100_000 },
  failed: { age: 30 * 24 * 3600 },
};

/**
 * `<kind>.<subject>.<channel>`; the subject part is hashed when long or
 * composite (BullMQ ids must not contain `:`; hex never does).
 */
export function notificationJobId(
  kind: NotificationKind,
  subject: string,
  channel: NotificationChannel,
): string {
  const digest = createHash('sha256').update(subject).digest('hex').slice(0, 32);
  return `notify.${kind}.${digest}.${channel}`;
}
