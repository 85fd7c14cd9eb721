/**
 * `verify`: reads every connector back after `revoke`. An account still
 * active is disabled again first, then what is left is removed, and the drift
 * is alerted on once (a retry remembers it was seen, in the `pending` record).
 * A read that fails is retried, but only after the account is disabled again
 * anyway: not being able to read groups must not leave an account enabled.
 */
import type { AccessState, Connector, PersonRef } from '../connectors/connector.ts';
import { ConnectorError } from '../connectors/connector.ts';
import type { PersonRecord } from '../domain/person.ts';
import {
  type ConnectorOutcome,
  type EffectDeps,
  forEachConnector,
  personRef,
  recordEffect,
  scoped,
} from './run.ts';

interface Seen {
  drift?: boolean;
  active?: boolean;
  grants?: string[];
}

/** Reads every connector back; anything still active is revoked again and alerted on. */
export function verifyAccess(deps: EffectDeps, record: PersonRecord): Promise<ConnectorOutcome[]> {
  const person = personRef(record, 'verify');
  const effect = scoped(record, 'verify');
  return forEachConnector(deps, 'verify', async (c): Promise<ConnectorOutcome> => {
    const prior = await deps.effects.get<Seen>(person.id, effect, c.name);
    if (prior?.state === 'done') return { connector: c.name, status: 'skipped' };
    const seen = prior?.state === 'pending' && prior.data.drift ? prior.data : undefined;

    let access = await readOrDisable(deps, c, person);
    const active = access.exists && access.active;
    if (active) await c.disable(person);
    const drift = Boolean(seen) || active || (access.exists && access.grants.length > 0);
    const observed: Seen = seen ?? {
      drift,
      active,
      grants: access.exists ? access.grants.map((g) => g.id) : [],
    };
    if (drift && !seen) {
      // Before anything that may fail: a retry then knows the drift was seen (and alerted).
      await deps.alerts.raise({
        kind: 'drift',
        message: `access still present in ${c.name} after revoke; revoked again`,
        personId: person.id,
        details: { connector: c.name, active: observed.active, grants: observed.grants },
      });
      await deps.effects.put(person.id, effect, c.name, 'pending', observed);
    }
    // What revoke should remove is judged on the inactive account (a connector may keep some).
    if (active) access = await c.read(person);
    const leftover = access.exists ? access.grants : [];
    if (leftover.length > 0) {
      if (c.removeAndReport) await c.removeAndReport(person, 'remaining', leftover);
      else await c.removeGrants(person, leftover);
    }
    const unresolved = access.exists ? (access.unresolved ?? []) : [];
    if (unresolved.length > 0) {
      throw new ConnectorError(`${c.name}: could not classify ${unresolved.length} grant(s); retrying`, true);
    }
    await recordEffect(deps, person.id, effect, c.name, 'done', { drift }, 'effect.verify', {
      connector: c.name,
      drift,
      active: observed.active ?? false,
      grants: observed.grants ?? [],
    });
    return { connector: c.name, status: drift ? 'drift' : 'done' };
  });
}

/** The read; when it fails, the account is disabled again before the failure is passed on. */
async function readOrDisable(deps: EffectDeps, c: Connector, person: PersonRef): Promise<AccessState> {
  try {
    return await c.read(person);
  } catch (err) {
    await c
      .disable(person)
      .catch((e: unknown) =>
        deps.log.warn(
          { connector: c.name, personId: person.id, err: (e as Error).message },
          're-disable failed',
        ),
      );
    throw err;
  }
}
