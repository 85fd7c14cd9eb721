/**
 * Brings the world in line with a person's saved plan: restores reduced grants
 * when the plan gave them back (src/domain/grantsBelongBack.ts) and makes sure
 * every open milestone has its job. Both steps are idempotent, so they run
 * after every applied event *and* after a duplicate one: a crash between
 * saving the plan and scheduling it is repaired by the redelivery.
 */
import { grantsBelongBack } from '../src/domain/grantsBelongBack.ts';
import type { PersonRecord } from '../src/domain/person.ts';
import { type EffectDeps, restoreAccess } from '../src/effects/connectorEffects.ts';
import { scheduleMilestones } from '../src/queues/milestones.ts';
import type { JobPorts } from './ports.ts';

export type EnsurePlanPorts = EffectDeps & Pick<JobPorts, 'queues'>;

export async function ensurePlan(ports: EnsurePlanPorts, record: PersonRecord): Promise<void> {
  if (grantsBelongBack(record, ports.now().getTime())) await restoreAccess(ports, record);
  if (!record.cancelled) await scheduleMilestones(ports.queues.milestones, record, ports.now().getTime());
}
