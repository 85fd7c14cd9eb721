/**
 * What an admin's edit of the built-in directory (PUT
 * /v1/directory/users/:personId) may not do to a leaver. The directory is one
 * of the connectors the timeline acts on, so an edit there could undo the
 * timeline by one person's hand:
 *
 * - a revoked person (also one whose offboarding was called off after
 *   `revoke`) gets no active account and no grant: that is a reinstatement,
 *   which a second person approves (contract v1.1 section 3; the 2017 account
 *   was restored by one person, by hand);
 * - a person already `reduced` or `frozen` gets no privileged grant the
 *   directory does not hold already: `reduce` removed those.
 *
 * Anything else (disabling, non-privileged grants before revoke, people
 * lastday has no HR record of) is the admin's to do.
 */
import type { GuardStatus } from './action.ts';
import { isDeparting } from './action.ts';

interface GrantRef {
  id: string;
  privileged: boolean;
}

/** Why the edit is refused (a sentence naming the way that is allowed), or undefined. */
export function directoryEditRefusal(
  personId: string,
  status: GuardStatus,
  current: readonly GrantRef[],
  next: { active: boolean; grants: readonly GrantRef[] },
): string | undefined {
  if (status === 'revoked') {
    if (!next.active && next.grants.length === 0) return undefined;
    return (
      `${personId}'s access was revoked; enabling them or giving them grants is a reinstatement: ` +
      `POST /v1/people/${encodeURIComponent(personId)}/reinstatement, approved by a second person`
    );
  }
  if (!isDeparting(status)) return undefined;
  const held = new Set(current.filter((g) => g.privileged).map((g) => g.id));
  const added = next.grants.filter((g) => g.privileged && !held.has(g.id)).map((g) => g.id);
  if (added.length === 0) return undefined;
  return (
    `${personId} is offboarding (${status}) and privileged grants were removed at reduce; ` +
    `refusing ${added.slice(0, 5).join(', ')}${added.length > 5 ? ', …' : ''}`
  );
}
