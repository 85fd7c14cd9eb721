/**
 * What each milestone does in each connector, made safe to repeat.
 *
 * Every connector is driven on its own and recorded on its own (EffectsStore),
 * so one failing connector is retried without redoing the ones that finished,
 * and a job that runs twice finds the effect recorded and does nothing.
 */
import type { Logger } from 'pino';
import type { Alerter } from '../app/alerts.ts';
import type { Metrics } from '../app/metrics.ts';
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

export type EffectName = 'reduce' | 'restore' | 'revoke' | 'verify';

export interface ConnectorOutcome {
  connector: string;
  status: 'done' | 'skipped' | 'not_found' | 'drift' | 'failed';
  grants?: string[];
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
        .map((o) => `${o.connector} (${o.error})`)
        .join(', ')}`,
    );
  }
}

function personRef(record: PersonRecord): PersonRef {
  return {
    id: record.person.id,
    email: record.person.email,
    name: record.person.name,
    cycle: record.cycle,
    planVersion: record.planVersion,
  };
}

/** Effect-record name, scoped to the offboarding cycle (see PersonRecord.cycle). */
function scoped(record: PersonRecord, effect: string): string {
  return `c${record.cycle}.${effect}`;
}

function unionById(a: readonly Grant[], b: readonly Grant[]): Grant[] {
  const byId = new Map<string, Grant>();
  for (const g of [...a, ...b]) byId.set(g.id, g);
  return [...byId.values()];
}

async function forEachConnector(
  deps: EffectDeps,
  effect: EffectName,
  run: (connector: Connector) => Promise<ConnectorOutcome>,
): Promise<ConnectorOutcome[]> {
  const settled = await Promise.allSettled(deps.connectors.map((c) => run(c)));
  const outcomes = settled.map((s, i): ConnectorOutcome => {
    const connector = deps.connectors[i]!.name;
    if (s.status === 'fulfilled') return s.value;
    deps.metrics.connectorErrors.inc({ connector, effect });
    const retryable = s.reason instanceof ConnectorError ? s.reason.retryable : true;
    return { connector, status: 'failed', error: errorText(s.reason), retryable };
  });
  if (outcomes.some((o) => o.status === 'failed')) throw new EffectFailure(effect, outcomes);
  return outcomes;
}

/** Records one connector's effect state with its audit entry, exactly once (EffectsStore.transition). */
function recordEffect(
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

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Removes every privileged grant, keeping what was removed for a later restore. */
export function reduceAccess(deps: EffectDeps, record: PersonRecord): Promise<ConnectorOutcome[]> {
  const person = personRef(record);
  const effect = scoped(record, 'reduce');
  return forEachConnector(deps, 'reduce', async (c) => {
    const prior = await deps.effects.get<{ grants?: Grant[] }>(person.id, effect, c.name);
    if (prior?.state === 'done' || prior?.state === 'not_found') {
      return { connector: c.name, status: 'skipped' };
    }
    const access = await c.read(person);
    if (!access.exists) {
      await recordEffect(deps, person.id, effect, c.name, 'not_found', {}, 'effect.reduce', {
        connector: c.name,
        result: 'not_found',
      });
      return { connector: c.name, status: 'not_found' };
    }
    const privileged = access.grants.filter((g) => g.privileged);
    // Intent first: if we crash after removing, the retry still knows what to restore.
    const snapshot = unionById(prior?.state === 'pending' ? (prior.data.grants ?? []) : [], privileged);
    if (!(await deps.effects.put(person.id, effect, c.name, 'pending', { grants: snapshot }))) {
      // An overlapping run of the same job finished it meanwhile.
      return { connector: c.name, status: 'skipped' };
    }
    await c.removeGrants(person, privileged);
    await recordEffect(deps, person.id, effect, c.name, 'done', { grants: snapshot }, 'effect.reduce', {
      connector: c.name,
      removed: snapshot.map((g) => g.id),
    });
    return { connector: c.name, status: 'done', grants: snapshot.map((g) => g.id) };
  });
}

/** Puts back what `reduce` removed (extension or cancellation before `revoke`). */
export function restoreAccess(deps: EffectDeps, record: PersonRecord): Promise<ConnectorOutcome[]> {
  const person = personRef(record);
  const effect = scoped(record, 'reduce');
  return forEachConnector(deps, 'restore', async (c) => {
    const prior = await deps.effects.get<{ grants?: Grant[] }>(person.id, effect, c.name);
    if (prior?.state !== 'done' && prior?.state !== 'pending')
      return { connector: c.name, status: 'skipped' };
    const grants = prior.data.grants ?? [];
    await c.restoreGrants(person, grants);
    await recordEffect(deps, person.id, effect, c.name, 'restored', { grants }, 'effect.restore', {
      connector: c.name,
      restored: grants.map((g) => g.id),
    });
    return { connector: c.name, status: 'done', grants: grants.map((g) => g.id) };
  });
}

/**
 * Whether `revoke` has disabled the person in at least one connector in this
 * offboarding cycle, even if the milestone is not done (another connector failing).
 */
export async function revokeTookEffect(
  deps: Pick<EffectDeps, 'connectors' | 'effects'>,
  record: PersonRecord,
) {
  const effect = scoped(record, 'revoke');
  const states = await Promise.all(
    deps.connectors.map((c) => deps.effects.get(record.person.id, effect, c.name)),
  );
  return states.some((s) => s?.state === 'done');
}

/** Disables the account and removes what is left, in every connector. */
export function revokeAccess(deps: EffectDeps, record: PersonRecord): Promise<ConnectorOutcome[]> {
  const person = personRef(record);
  const effect = scoped(record, 'revoke');
  return forEachConnector(deps, 'revoke', async (c) => {
    const prior = await deps.effects.get(person.id, effect, c.name);
    if (prior?.state === 'done' || prior?.state === 'not_found')
      return { connector: c.name, status: 'skipped' };
    const access = await c.read(person);
    if (!access.exists) {
      await recordEffect(deps, person.id, effect, c.name, 'not_found', {}, 'effect.revoke', {
        connector: c.name,
        result: 'not_found',
      });
      return { connector: c.name, status: 'not_found' };
    }
    await c.disable(person);
    const removed = access.grants.map((g) => g.id);
    await recordEffect(
      deps,
      person.id,
      effect,
      c.name,
      'done',
      { grants: access.grants, wasActive: access.active },
      'effect.revoke',
      { connector: c.name, disabled: true, wasActive: access.active, removed },
    );
    return { connector: c.name, status: 'done', grants: removed };
  });
}

/** Reads every connector back; anything still active is revoked again and alerted on. */
export function verifyAccess(deps: EffectDeps, record: PersonRecord): Promise<ConnectorOutcome[]> {
  const person = personRef(record);
  const effect = scoped(record, 'verify');
  return forEachConnector(deps, 'verify', async (c) => {
    const prior = await deps.effects.get(person.id, effect, c.name);
    if (prior?.state === 'done') return { connector: c.name, status: 'skipped' };
    const access = await c.read(person);
    const drift = access.exists && (access.active || access.grants.length > 0);
    if (drift) {
      await c.disable(person);
      await deps.alerts.raise({
        kind: 'drift',
        message: `access still present in ${c.name} after revoke; revoked again`,
        personId: person.id,
        details: { connector: c.name, active: access.active, grants: access.grants.map((g) => g.id) },
      });
    }
    await recordEffect(deps, person.id, effect, c.name, 'done', { drift }, 'effect.verify', {
      connector: c.name,
      drift,
      active: access.active,
      grants: access.grants.map((g) => g.id),
    });
    return { connector: c.name, status: drift ? 'drift' : 'done' };
  });
}
