/** Queue names (under the BullMQ prefix) and job payloads. */
import { encodeId } from '../domain/ids.ts';
import type { MilestoneName } from '../domain/milestone.ts';

export const QUEUES = {
  /** Contract name: HR systems add jobs here directly (name = event type, data = event). */
  hrEvents: 'hr-events',
  /** One delayed job per open milestone of each person. */
  milestones: 'milestones',
  /** Managed execution of registered actions and expiry of undecided holds (src/queues/actions.ts). */
  actions: 'actions',
  /** Cron-triggered maintenance (reconcile, roster-sync, overdue, hold-expiry, retention); see queues/crons.ts. */
  ops: 'ops',
  /** The outbox: one job per notification and channel (email, Slack), retried; see queues/notifications.ts. */
  notifications: 'notifications',
} as const;

export interface MilestoneJobData {
  personId: string;
  /** The plan version the job was scheduled for; a stale one does nothing. */
  version: number;
  milestone: MilestoneName;
}

/** Deterministic: scheduling the same milestone of the same plan twice is a no-op. */
export function milestoneJobId(personId: string, version: number, milestone: MilestoneName): string {
  return `${milestone}.${encodeId(personId)}.v${version}`;
}

export function hrEventJobId(eventId: string): string {
  return `ev.${encodeId(eventId)}`;
}
