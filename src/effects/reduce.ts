/** `reduce` (remove privileged grants, keeping a snapshot) and `restore` (put the snapshot back). */
import type { Grant } from '../connectors/connector.ts';
import type { PersonRecord } from '../domain/person.ts';
import { removeRecorded } from './removal.ts';
import {
  type ConnectorOutcome,
  type EffectDeps,
  forEachConnector,
  personRef,
  recordEffect,
  scoped,
} from './run.ts';

/** Removes every privileged grant, keeping what was removed for a later restore. */
export function reduceAccess(deps: EffectDeps, record: PersonRecord): Promise<ConnectorOutcome[]> {
  const person = personRef(record, 'reduce');
  const effect = scoped(record, 'reduce');
  return forEachConnector(deps, 'reduce', async (c): Promise<ConnectorOutcome> => {
    const result = await removeRecorded(deps, c, person, {
      effect,
      scope: 'privileged',
      auditType: 'effect.reduce',
    });
    if (result.status !== 'done') return { connector: c.name, status: result.status };
    return { connector: c.name, status: 'done', grants: result.removed.map((g) => g.id) };
  });
}

/** Puts back what `reduce` removed (extension or cancellation before `revoke`). */
export function restoreAccess(deps: EffectDeps, record: PersonRecord): Promise<ConnectorOutcome[]> {
  const person = personRef(record, 'restore');
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
