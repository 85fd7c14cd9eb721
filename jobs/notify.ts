/**
 * Processor of the `notifications` queue (the outbox): delivers one
 * notification on one channel — a mail over SMTP with nodemailer, or a POST to
 * a Slack-compatible incoming webhook. A failure throws, and BullMQ retries
 * with backoff (NOTIFY_BACKOFF) up to `notifications.attempts` times.
 *
 * A notification about holds is dropped at delivery when none of them is
 * still held as it was (approved, cancelled or expired meanwhile): nobody needs
 * to decide it any more.
 *
 * Delivery is at least once: an SMTP server that accepts the message but loses
 * the connection before answering gets it again on the retry. Each mail's
 * Message-ID is the job id, so a receiver can tell a repeat.
 */
import type { Job } from 'bullmq';
import type { Transporter } from 'nodemailer';
import type { NotificationJobData } from '../src/queues/notifications.ts';
import type { JobPorts } from './ports.ts';

export type NotifyResult = { outcome: 'sent' | 'skipped'; channel: string; to?: number };

export function createNotifyProcessor(ctx: Pick<JobPorts, 'notifier' | 'actions' | 'metrics' | 'log'>) {
  const { channels, actions } = { channels: ctx.notifier.channels, actions: ctx.actions };
  let transport: Promise<Transporter> | undefined;
  // nodemailer is imported off the start-up path (it costs ~200 ms to import,
  // and a process that sends no mail never needs it).
  const mailer = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) => {
      const email = channels.email!;
      // smtp:// without requireTls: opportunistic STARTTLS, certificate not checked
      // (an unverified upgrade still beats plain text); see notifications.email.requireTls.
      const opportunistic = email.smtpUrl.startsWith('smtp:') && !email.requireTls;
      // Not pooled: one connection per mail, so a restarted server is simply reached again.
      return nodemailer.createTransport({
        url: email.smtpUrl,
        ...(opportunistic ? { tls: { rejectUnauthorized: false } } : {}),
        ...(email.requireTls ? { requireTLS: true } : {}),
        connectionTimeout: email.timeoutMs,
        greetingTimeout: email.timeoutMs,
        socketTimeout: email.timeoutMs,
      });
    }));

  // Warmed in the background when mail is configured, so the first hold's mail does not wait for it.
  if (channels.email)
    void mailer().catch(() => {
      transport = undefined; // tried again on the first mail, which then reports the error
    });

  return async (job: Job<NotificationJobData>): Promise<NotifyResult> => {
    const { kind, channel, message } = job.data;
    if (job.data.heldActions) {
      const stillHeld = await Promise.all(
        job.data.heldActions.map(async ({ actionId, heldAt }) => {
          const a = await actions.get(actionId);
          return a?.state === 'held' && a.heldAt === heldAt;
        }),
      );
      if (!stillHeld.some(Boolean)) {
        ctx.metrics.notifications.inc({ kind, channel, outcome: 'skipped' });
        return { outcome: 'skipped', channel };
      }
    }
    try {
      if (channel === 'email') {
        if (!channels.email) throw new Error('notifications.email is not configured in this process');
        await (
          await mailer()
        ).sendMail({
          from: channels.email.from,
          to: job.data.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
          messageId: `<${job.id}@lastday>`,
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
      } else {
        if (!channels.slack) throw new Error('notifications.slack is not configured in this process');
        const res = await fetch(channels.slack.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: message.slack }),
          signal: AbortSignal.timeout(channels.slack.timeoutMs),
        });
        if (!res.ok) throw new Error(`Slack webhook answered HTTP ${res.status}`);
      }
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      ctx.metrics.notifications.inc({ kind, channel, outcome: last ? 'failed' : 'retry' });
      // The message only: never the webhook URL (a secret) or the recipients' mail.
      ctx.log.warn(
        {
          notification: kind,
          channel,
          jobId: job.id,
          attempt: job.attemptsMade + 1,
          err: (err as Error).message,
        },
        last ? 'notification failed for good' : 'notification not delivered; will retry',
      );
      throw err;
    }
    ctx.metrics.notifications.inc({ kind, channel, outcome: 'sent' });
    const dueMs = job.timestamp + (job.opts.delay ?? 0);
    ctx.metrics.notificationDelay.observe({ kind, channel }, Math.max(0, Date.now() - dueMs) / 1000);
    return { outcome: 'sent', channel, ...(channel === 'email' ? { to: job.data.to.length } : {}) };
  };
}
