/**
 * Alerts: something a person must look at (drift after revoke, a milestone past
 * its deadline, a connector refusing our credentials). Logged at error level,
 * counted, and written to the audit chain.
 */
import type { Logger } from 'pino';
import type { AuditStore } from '../store/audit.ts';
import type { Metrics } from './metrics.ts';

export interface Alert {
  kind: string;
  message: string;
  personId?: string | undefined;
  actionId?: string | undefined;
  details?: Record<string, unknown>;
}

export class Alerter {
  constructor(
    private readonly log: Logger,
    private readonly audit: AuditStore,
    private readonly metrics: Metrics,
    private readonly now: () => Date,
  ) {}

  async raise(alert: Alert): Promise<void> {
    this.metrics.alerts.inc({ kind: alert.kind });
    this.log.error({ alert: alert.kind, personId: alert.personId, details: alert.details }, alert.message);
    await this.audit.append({
      at: this.now().toISOString(),
      type: `alert.${alert.kind}`,
      actor: 'lastday',
      personId: alert.personId,
      actionId: alert.actionId,
      details: { message: alert.message, ...alert.details },
    });
  }
}
