/**
 * Seams through which the action gate (Guard) feeds the ops features without
 * ops depending on it: holds for evidence and metrics, and the work of the
 * `hold-expiry` cron. Unset, evidence says holds are not available, the
 * metric is absent, and `hold-expiry` does nothing.
 */
import type { HoldSummary } from '../domain/evidence.ts';
import type { Context } from './context.ts';

export interface HoldsProvider {
  /** Holds on actions the person initiated, with who decided them. */
  forPerson(ctx: Context, personId: string): Promise<HoldSummary[]>;
  /** Actions per state (`held`, `approved`, …), for /metrics. */
  countByState(ctx: Context): Promise<Record<string, number>>;
}

export interface OpsProviders {
  holds?: HoldsProvider;
  /** Cancels holds older than `policy.holdExpiryHours`; returns a summary for the run log. */
  expireHolds?: (ctx: Context) => Promise<Record<string, unknown>>;
}
