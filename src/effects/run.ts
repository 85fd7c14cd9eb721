/**
 * The plumbing every effect shares: who the connectors act on, the name of
 * each effect record, running one step in every connector with one outcome
 * each, and recording a step once together with its audit entry.
 *
 * Every connector is driven on its own and recorded on its own (EffectsStore),
 * so one failing connector is retried without redoing the ones that finished,
 * and a job that runs twice finds the effect recorded and does nothing.
 */
import type { Logger } from 'pino';
import type { Alerter } from '../telemetry/alerts.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { type Connector, ConnectorError, type Grant, type PersonRef } from '../connectors/connector.ts';
import type { PersonRecord } from '../domain/person.ts';
import type { EffectState, EffectsStore } from '../store/effects.ts';

export interface EffectDeps {
  connectors: readonly Connector[];
  effects: EffectsStore;
  alerts: Alerter;
  metrics: Metrics;
  log: Logger;
  now: () => Date;
}

export type EffectName = 'reduce' | 'restore' | 'revoke' | 'verify' | 'reinstate';

export interface ConnectorOutcome {
  connector: string;
  status: 'done' | 'skipped' | 'not_found' | 'drift' | 'failed';
  grants?: string[];
  /** `revoke`: the account is disabled there (recorded), whatever happened after. */
  disabled?: boolean;
  error?: string;
  /** False when waiting will not help (refused credentials, bad config). */
  retryable?: boolean;
}

/** Raised when at least one connector failed; the others' outcomes are kept. */
export class EffectFailure extends Error {
  override readonly name = 'EffectFailure';
  constructor(
    readonly effect: EffectName,
    readonly outcomes: ConnectorOutcome[],
  ) {
    super(
      `${effect} failed in ${outcomes
        .filter((o) => o.status === 'failed')
        .map(
          (o) =>
            `${o.connector} (${o.disabled ? 'account disabled; removing the rest failed: ' : ''}${o.error})`,
        )
        .join(', ')}`,
    );
  }
}

/** Who the connectors act on, and on behalf of which effect (webhook ids use it). */
export function personRef(record: PersonRecord, effect: string): PersonRef {
  return {
    id: record.person.id,
    email: record.person.email,
    name: record.person.name,
    cycle: record.cycle,
    planVersion: record.planVersion,
    effect,
  };
}

/** Effect-record name, scoped to the offboarding cycle (see PersonRecord.cycle). */
export function scoped(record: PersonRecord, effect: string): string {
  return `c${record.cycle}.${effect}`;
}

export function unionById(a: readonly Grant[], b: readonly Grant[]): Grant[] {
  const byId = new Map<string, Grant>();
  for (const g of [...a, ...b]) byId.set(g.id, g);
  return [...byId.values()];
}

/** A failed step's outcome, counted and logged (with what the server said, which the audit never gets). */
export function failedOutcome(
  deps: EffectDeps,
  effect: EffectName,
  connector: string,
  reason: unknown,
  extra: Partial<ConnectorOutcome> = {},
): ConnectorOutcome {
  deps.metrics.connectorErrors.inc({ connector, effect });
  const retryable = reason instanceof ConnectorError ? reason.retryable : true;
  const error = reason instanceof Error ? reason.message : String(reason);
  deps.log.warn(
    {
      connector,
      effect,
      err: error,
      ...(reason instanceof ConnectorError && reason.detail ? { detail: reason.detail } : {}),
    },
    'connector step failed',
  );
  return { connector, status: 'failed', error, retryable, ...extra };
}

/** Throws EffectFailure when any outcome failed; else returns them. */
export function settle(effect: EffectName, outcomes: ConnectorOutcome[]): ConnectorOutcome[] {
  if (outcomes.some((o) => o.status === 'failed')) throw new EffectFailure(effect, outcomes);
  return outcomes;
}

/** Runs one step in every connector at once; one outcome each. */
export async function forEachConnector(
  deps: EffectDeps,
  effect: EffectName,
  run: (connector: Connector) => Promise<ConnectorOutcome>,
): Promise<ConnectorOutcome[]> {
  const settled = await Promise.allSettled(deps.connectors.map((c) => run(c)));
  return settle(
    effect,
    settled.map((s, i) =>
      s.status === 'fulfilled' ? s.value : failedOutcome(deps, effect, deps.connectors[i]!.name, s.reason),
    ),
  );
}

/** Records one connector's effect state with its audit entry, exactly once (EffectsStore.transition). */
export function recordEffect(
  deps: EffectDeps,
  personId: string,
  effect: string,
  connector: string,
  state: EffectState,
  data: unknown,
  type: string,
  details: Record<string, unknown>,
): Promise<boolean> {
  return deps.effects.transition(personId, effect, connector, state, data, {
    at: deps.now().toISOString(),
    type,
    actor: 'lastday',
    personId,
    details,
  });
}
