/**
 * Alerts: something a person must look at (drift after revoke, a milestone past
 * its deadline, a connector refusing our credentials). Logged at error level,
 * counted, written to the audit chain and, when `alerts.webhookUrl` is set,
 * POSTed there signed per Standard Webhooks (best effort: a failing alert
 * endpoint is logged, never blocks the work that raised the alert). Failed,
 * overdue and drifting milestones also go to `notifications.ops` through the
 * notifier's outbox (src/queues/notifier.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { AuditInput, AuditStore } from '../store/audit.ts';
import type { Metrics } from './metrics.ts';

export interface Alert {
  kind: string;
  message: string;
  personId?: string | undefined;
  actionId?: string | undefined;
  details?: Record<string, unknown>;
  /**
   * Names this alert when it may be announced twice (a retry after a crash):
   * its webhook-id is derived from it, so the same alert carries the same id
   * and Standard Webhooks receivers deduplicate on it. A fresh id per POST
   * when absent.
   */
  dedupeKey?: string;
}

/** Where alerts are posted; built from the config's `alerts` section. */
export interface AlertWebhook {
  url: string;
  /** A Standard Webhooks secret (`whsec_…`). */
  secret: string;
  timeoutMs: number;
}

export class Alerter {
  private readonly signer: Webhook | undefined;
  constructor(
    private readonly log: Logger,
    private readonly audit: AuditStore,
    private readonly metrics: Metrics,
    private readonly now: () => Date,
    private readonly webhook?: AlertWebhook,
    /** Told of every alert after it is audited (the notifier: ops by email/Slack); must not throw. */
    private readonly onRaised?: (alert: Alert, at: Date) => Promise<void>,
  ) {
    this.signer = webhook ? new Webhook(webhook.secret) : undefined;
  }

  async raise(alert: Alert): Promise<void> {
    const at = this.now();
    await this.audit.append(this.entry(alert, at));
    await this.announce(alert, at);
  }

  /**
   * The audit entry of `alert` raised at `at`. A caller that records the alert
   * with a state change (one write, so a crash cannot keep one without the
   * other) writes this entry itself, then calls `announce`.
   */
  entry(alert: Alert, at: Date): AuditInput {
    return {
      at: at.toISOString(),
      type: `alert.${alert.kind}`,
      actor: 'lastday',
      personId: alert.personId,
      actionId: alert.actionId,
      details: { message: alert.message, ...alert.details },
    };
  }

  /**
   * Everything of an alert but its audit entry: the log line, the count, the
   * notifier and the webhook. Safe to repeat for the same alert: the notifier
   * sends one mail per subject per day, and `alert.dedupeKey` (when given) fixes
   * the webhook-id a receiver deduplicates on.
   */
  async announce(alert: Alert, at: Date): Promise<void> {
    this.metrics.alerts.inc({ kind: alert.kind });
    this.log.error({ alert: alert.kind, personId: alert.personId, details: alert.details }, alert.message);
    await this.onRaised?.(alert, at);
    await this.post(alert, at);
  }

  private async post(alert: Alert, at: Date): Promise<void> {
    if (!this.webhook || !this.signer) return;
    const id = alert.dedupeKey === undefined ? `msg_${randomUUID()}` : webhookIdOf(alert.dedupeKey);
    const { dedupeKey: _key, ...fields } = alert;
    const body = JSON.stringify({ type: `alert.${alert.kind}`, at: at.toISOString(), ...fields });
    // The signature timestamp is the real clock: receivers check it against theirs.
    const sentAt = new Date();
    try {
      const res = await fetch(this.webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': this.signer.sign(id, sentAt, body),
        },
        body,
        signal: AbortSignal.timeout(this.webhook.timeoutMs),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      this.metrics.connectorErrors.inc({ connector: 'alert-webhook', effect: alert.kind });
      this.log.warn({ alert: alert.kind, err: (err as Error).message }, 'alert webhook failed');
    }
  }
}

/** A webhook-id (ASCII, fixed length) that is the same for the same key. */
function webhookIdOf(key: string): string {
  return `msg_${createHash('sha256').update(key).digest('base64url').slice(0, 32)}`;
}
