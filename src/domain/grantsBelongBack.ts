/**
 * When grants that `reduce` took away must be put back (jobs/ensurePlan.ts
 * restores them after every event, applied or redelivered).
 */
import type { PersonRecord } from './person.ts';

/**
 * Whether reduced grants must be put back: the departure was called off, or
 * `reduce` is open again with its instant in the future (a later last day),
 * and `revoke` has not happened. A `reduce` that is open but due is one still
 * running or retrying after a partial failure: what it already removed stays
 * removed, or a redelivered event would hand privileges back to a leaver.
 * Revoked somewhere (reinstatement pending): a person decides, not lastday.
 */
export function grantsBelongBack(
  record: Pick<PersonRecord, 'milestones' | 'cancelled' | 'reinstatementRequired'>,
  nowMs: number,
): boolean {
  const revoked = record.milestones.some((m) => m.name === 'revoke' && m.state === 'done');
  if (revoked || record.reinstatementRequired) return false;
  if (record.cancelled) return true;
  const reduce = record.milestones.find((m) => m.name === 'reduce');
  return reduce !== undefined && reduce.state !== 'done' && Date.parse(reduce.dueAt) > nowMs;
}
