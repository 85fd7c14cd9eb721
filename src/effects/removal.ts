/**
 * The removal step `reduce` and `revoke` share: find what is to go, write it
 * down as intent, remove it, record it once.
 *
 * Intent first (`pending` with the snapshot) so a crash after removing can
 * never lose what a restore or a reinstatement must put back; a retry adds
 * to the snapshot, never replaces it.
 *
 * The removal is never gated by a read it does not need. A connector that can
 * remove-and-report in one call (`removeAndReport`: the receiver knows what is
 * privileged) gets the call whether or not the read before it worked; the read
 * only feeds the snapshot. Elsewhere the read is what says what to remove, but
 * grants it could not classify (`unresolved`) hold back only themselves: the
 * others go now, and the step is retried for the rest.
 */
import {
  type AccessState,
  type Connector,
  ConnectorError,
  type Grant,
  type PersonRef,
  type RemovalScope,
} from '../connectors/connector.ts';
import { type EffectDeps, recordEffect, unionById } from './run.ts';

export interface RemovalStep {
  /** Effect record, e.g. `c1.reduce`. */
  effect: string;
  scope: RemovalScope;
  /** Audit entry type for the record (`effect.reduce`, `effect.revoke`). */
  auditType: string;
  /** Extra audit details when done. */
  details?: Record<string, unknown>;
  /**
   * `revoke`: the account was disabled before this step. If the read finds it
   * active again it is disabled again before anything is removed, and if it is
   * gone there is nothing left (done, not `not_found`).
   */
  afterDisable?: boolean;
}

export type RemovalResult =
  { status: 'not_found' } | { status: 'skipped' } | { status: 'done'; removed: Grant[] };

type PendingData = { grants?: Grant[] };

export async function removeRecorded(
  deps: EffectDeps,
  c: Connector,
  person: PersonRef,
  step: RemovalStep,
): Promise<RemovalResult> {
  const prior = await deps.effects.get<PendingData>(person.id, step.effect, c.name);
  if (prior?.state === 'done' || prior?.state === 'not_found') return { status: 'skipped' };
  const carried = prior?.state === 'pending' ? (prior.data.grants ?? []) : [];

  let access: AccessState | undefined;
  try {
    access = await readFor(c, person, step);
  } catch (err) {
    if (!c.removeAndReport) throw err;
    deps.log.warn(
      { connector: c.name, personId: person.id, effect: step.effect, err: (err as Error).message },
      'read failed; removing without it',
    );
  }
  if (access && !access.exists) {
    return step.afterDisable ? done(deps, c, person, step, carried) : notFound(deps, c, person, step);
  }
  const selected = access ? select(access, step.scope) : [];
  const snapshot = unionById(carried, selected);
  // Refused when an overlapping run of the same job finished it meanwhile.
  if (!(await deps.effects.put(person.id, step.effect, c.name, 'pending', { grants: snapshot }))) {
    return { status: 'skipped' };
  }

  if (c.removeAndReport) {
    const report = await c.removeAndReport(person, step.scope, selected);
    if (!report.exists && snapshot.length === 0 && !step.afterDisable) return notFound(deps, c, person, step);
    return done(deps, c, person, step, unionById(snapshot, report.removed));
  }
  await c.removeGrants(person, selected);
  const unresolved = access?.unresolved ?? [];
  if (unresolved.length > 0) {
    // Recorded as intent above; the retry removes these once it can tell what they are.
    throw new ConnectorError(
      `${c.name}: could not classify ${unresolved.length} grant(s) (${unresolved
        .slice(0, 3)
        .map((g) => g.id)
        .join(', ')}${unresolved.length > 3 ? ', …' : ''}); removed the others, retrying for these`,
      true,
    );
  }
  return done(deps, c, person, step, snapshot);
}

async function readFor(c: Connector, person: PersonRef, step: RemovalStep): Promise<AccessState> {
  const access = await c.read(person);
  if (!step.afterDisable || !access.exists || !access.active) return access;
  // Enabled again between the disable and now (or the disable did not stick).
  await c.disable(person);
  return c.read(person);
}

function select(access: AccessState, scope: RemovalScope): Grant[] {
  return scope === 'privileged' ? access.grants.filter((g) => g.privileged) : access.grants;
}

async function notFound(
  deps: EffectDeps,
  c: Connector,
  person: PersonRef,
  step: RemovalStep,
): Promise<RemovalResult> {
  await recordEffect(deps, person.id, step.effect, c.name, 'not_found', {}, step.auditType, {
    connector: c.name,
    result: 'not_found',
  });
  return { status: 'not_found' };
}

async function done(
  deps: EffectDeps,
  c: Connector,
  person: PersonRef,
  step: RemovalStep,
  snapshot: Grant[],
): Promise<RemovalResult> {
  await recordEffect(deps, person.id, step.effect, c.name, 'done', { grants: snapshot }, step.auditType, {
    connector: c.name,
    ...step.details,
    removed: snapshot.map((g) => g.id),
  });
  return { status: 'done', removed: snapshot };
}
