/**
 * A reinstatement's connector work (contract v1.1 section 3), in the mirror
 * order of `revoke`:
 *
 * 1. enable the account in every connector at once, each recorded (`enabled`,
 *    audited as `effect.enable`) the moment it lands;
 * 2. then, where it is enabled, put back what `reduce` and `revoke` removed in
 *    this cycle (their snapshots, see removal.ts), recorded `restored` with the
 *    grants (`effect.reinstate`).
 *
 * Records (per connector, in the cycle): `c<n>.enable` = `enabled`;
 * `c<n>.reinstate` = `restored`, or `not_found` when there is no account. A
 * run after a partial failure skips every step already recorded, so each
 * connector is enabled and restored once however often the job runs.
 */
import type { Connector, Grant, PersonRef } from '../connectors/connector.ts';
import type { PersonRecord } from '../domain/person.ts';
import {
  type ConnectorOutcome,
  type EffectDeps,
  failedOutcome,
  personRef,
  recordEffect,
  scoped,
  settle,
  unionById,
} from './run.ts';

type Enabled = 'finished' | 'not_found' | 'enabled';

/** What a connector's reinstatement outcome adds: when its account was enabled. */
export interface ReinstateOutcome extends ConnectorOutcome {
  enabledAt?: string;
}

/** Re-enables the person in every connector, then restores the removed grants there. */
export async function reinstateAccess(
  deps: EffectDeps,
  record: PersonRecord,
  actionId: string,
): Promise<ReinstateOutcome[]> {
  const person = personRef(record, 'reinstate');
  const names = {
    enable: scoped(record, 'enable'),
    reinstate: scoped(record, 'reinstate'),
    reduce: scoped(record, 'reduce'),
    revoke: scoped(record, 'revoke'),
  };
  const first = await Promise.allSettled(
    deps.connectors.map((c) => enableIn(deps, c, person, names, actionId)),
  );
  const outcomes = await Promise.all(
    deps.connectors.map(async (c, i): Promise<ReinstateOutcome> => {
      const step = first[i]!;
      if (step.status === 'rejected') return failedOutcome(deps, 'reinstate', c.name, step.reason);
      const enabledAt = await enabledAtOf(deps, person.id, names.enable, c.name);
      const at = enabledAt ? { enabledAt } : {};
      if (step.value === 'finished') return { connector: c.name, status: 'skipped', ...at };
      if (step.value === 'not_found') return { connector: c.name, status: 'not_found' };
      try {
        const grants = await snapshotOf(deps, person.id, names, c.name);
        await c.restoreGrants(person, grants);
        await recordEffect(
          deps,
          person.id,
          names.reinstate,
          c.name,
          'restored',
          { grants },
          'effect.reinstate',
          { connector: c.name, actionId, enabled: true, restored: grants.map((g) => g.id) },
        );
        return { connector: c.name, status: 'done', grants: grants.map((g) => g.id), ...at };
      } catch (err) {
        return { ...failedOutcome(deps, 'reinstate', c.name, err), ...at };
      }
    }),
  );
  return settle('reinstate', outcomes) as ReinstateOutcome[];
}

/** Step 1 in one connector: enable, record, audit; nothing read first. */
async function enableIn(
  deps: EffectDeps,
  c: Connector,
  person: PersonRef,
  names: { enable: string; reinstate: string },
  actionId: string,
): Promise<Enabled> {
  const [restored, enabled] = await deps.effects.states(person.id, [
    [names.reinstate, c.name],
    [names.enable, c.name],
  ]);
  if (restored === 'restored') return 'finished';
  if (restored === 'not_found') return 'not_found';
  if (enabled === 'enabled') return 'enabled';
  if (!(await c.enable(person))) {
    await recordEffect(deps, person.id, names.reinstate, c.name, 'not_found', {}, 'effect.reinstate', {
      connector: c.name,
      actionId,
      result: 'not_found',
    });
    return 'not_found';
  }
  await recordEffect(
    deps,
    person.id,
    names.enable,
    c.name,
    'enabled',
    { at: deps.now().toISOString() },
    'effect.enable',
    { connector: c.name, actionId, enabled: true },
  );
  return 'enabled';
}

/** Everything `reduce` and `revoke` removed there in this cycle (recorded or intended). */
async function snapshotOf(
  deps: EffectDeps,
  personId: string,
  names: { reduce: string; revoke: string },
  connector: string,
): Promise<Grant[]> {
  const [reduce, revoke] = await Promise.all([
    deps.effects.get<{ grants?: Grant[] }>(personId, names.reduce, connector),
    deps.effects.get<{ grants?: Grant[] }>(personId, names.revoke, connector),
  ]);
  // A `restored` reduce was given back already (an extension); revoke then removed those itself.
  const removed = (e: typeof reduce) =>
    e && (e.state === 'done' || e.state === 'pending') ? (e.data.grants ?? []) : [];
  return unionById(removed(reduce), removed(revoke));
}

async function enabledAtOf(
  deps: EffectDeps,
  personId: string,
  effect: string,
  connector: string,
): Promise<string | undefined> {
  const rec = await deps.effects.get<{ at?: string }>(personId, effect, connector);
  return rec?.state === 'enabled' ? rec.data.at : undefined;
}
