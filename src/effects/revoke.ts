/**
 * `revoke`, in the order contract v1.1 requires:
 *
 * 1. disable the account in every connector at once, each recorded (`disabled`,
 *    audited as `effect.disable`) the moment it lands; no read of groups or
 *    grants comes before it;
 * 2. then, where the account is disabled, read what is left and remove it,
 *    recorded `done` with what went (`effect.revoke`): the snapshot a
 *    reinstatement restores.
 *
 * A failure in step 2 never undoes or holds back step 1: the milestone fails,
 * its job retries with backoff (and alerts past the deadline), and the retry
 * skips every disable already recorded.
 *
 * A connector that has both steps as one atomic write (`revokeRecorded`: the
 * built-in directory, in lastday's own Redis) does them together in step 1,
 * audited as one `effect.revoke` entry with `disabled: true`.
 *
 * Records (per connector, in the cycle): `c<n>.disable` = `disabled`;
 * `c<n>.revoke` = `pending` (intent) → `done`, or `not_found` when there is no
 * account. Two records rather than one moving through states, so each only
 * ever moves forward and a late overlapping run cannot set one back.
 */
import type { Connector, PersonRef } from '../connectors/connector.ts';
import type { PersonRecord } from '../domain/person.ts';
import { removeRecorded } from './removal.ts';
import {
  type ConnectorOutcome,
  type EffectDeps,
  failedOutcome,
  personRef,
  recordEffect,
  scoped,
  settle,
} from './run.ts';

type Disabled = 'finished' | 'not_found' | 'disabled';

/**
 * Whether `revoke` has taken effect in at least one connector in this
 * offboarding cycle: an account disabled there counts, even if removing the
 * rest (or another connector) is still failing.
 */
export async function revokeTookEffect(
  deps: Pick<EffectDeps, 'connectors' | 'effects'>,
  record: PersonRecord,
): Promise<boolean> {
  const states = await deps.effects.states(
    record.person.id,
    deps.connectors.flatMap((c) => [
      [scoped(record, 'disable'), c.name] as const,
      [scoped(record, 'revoke'), c.name] as const,
    ]),
  );
  return states.some((s) => s === 'disabled' || s === 'done');
}

/**
 * Disables the person in every connector, then removes what is left there.
 * `reads`: by connector name, what its `readForRevoke` returned a moment ago.
 */
export async function revokeAccess(
  deps: EffectDeps,
  record: PersonRecord,
  reads?: ReadonlyMap<string, unknown>,
): Promise<ConnectorOutcome[]> {
  const person = personRef(record, 'revoke');
  const effect = scoped(record, 'revoke');
  const disableEffect = scoped(record, 'disable');

  // A connector that revokes in one atomic write does it all in this first step.
  const first = await Promise.allSettled(
    deps.connectors.map((c) =>
      c.revokeRecorded
        ? revokeAtOnce(c, person, effect, disableEffect, reads?.get(c.name))
        : disableIn(deps, c, person, effect, disableEffect),
    ),
  );
  const outcomes = await Promise.all(
    deps.connectors.map(async (c, i): Promise<ConnectorOutcome> => {
      const step = first[i]!;
      if (step.status === 'rejected') return failedOutcome(deps, 'revoke', c.name, step.reason);
      if (typeof step.value === 'object') return step.value;
      if (step.value === 'finished') return { connector: c.name, status: 'skipped' };
      if (step.value === 'not_found') return { connector: c.name, status: 'not_found' };
      try {
        const result = await removeRecorded(deps, c, person, {
          effect,
          scope: 'remaining',
          auditType: 'effect.revoke',
          details: { disabled: true },
          afterDisable: true,
        });
        if (result.status !== 'done') return { connector: c.name, status: result.status, disabled: true };
        return {
          connector: c.name,
          status: 'done',
          disabled: true,
          grants: result.removed.map((g) => g.id),
        };
      } catch (err) {
        return failedOutcome(deps, 'revoke', c.name, err, { disabled: true });
      }
    }),
  );
  return settle('revoke', outcomes);
}

/** Both steps in a connector that has them as one write (Connector.revokeRecorded). */
async function revokeAtOnce(
  c: Connector,
  person: PersonRef,
  effect: string,
  disableEffect: string,
  read: unknown,
): Promise<ConnectorOutcome> {
  const result = await c.revokeRecorded!(person, { revoke: effect, disable: disableEffect }, read);
  if (result.status === 'finished') return { connector: c.name, status: 'skipped' };
  if (result.status === 'not_found') return { connector: c.name, status: 'not_found' };
  return { connector: c.name, status: 'done', disabled: true, grants: result.removed.map((g) => g.id) };
}

/** Step 1 in one connector: disable, record, audit; nothing read first. */
async function disableIn(
  deps: EffectDeps,
  c: Connector,
  person: PersonRef,
  effect: string,
  disableEffect: string,
): Promise<Disabled> {
  const [revoked, disabled] = await deps.effects.states(person.id, [
    [effect, c.name],
    [disableEffect, c.name],
  ]);
  if (revoked === 'done' || revoked === 'not_found') return 'finished';
  if (disabled === 'disabled') return 'disabled';
  if (!(await c.disable(person))) {
    await recordEffect(deps, person.id, effect, c.name, 'not_found', {}, 'effect.revoke', {
      connector: c.name,
      result: 'not_found',
    });
    return 'not_found';
  }
  await recordEffect(
    deps,
    person.id,
    disableEffect,
    c.name,
    'disabled',
    { at: deps.now().toISOString() },
    'effect.disable',
    { connector: c.name, disabled: true },
  );
  return 'disabled';
}
