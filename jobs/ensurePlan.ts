/**
 * Brings the world in line with a person's saved plan: restores reduced grants
 * when the plan gave them back (src/domain/grantsBelongBack.ts) and makes sure
 * the plan's next milestone has its job (none beyond the horizon: see
 * src/domain/milestoneJobs.ts). Both steps are idempotent, so they run
 * after every applied event *and* after a duplicate one: a crash between
 * saving the plan and scheduling it is repaired by the redelivery.
 */
import { grantsBelongBack } from '../src/domain/grantsBelongBack.ts';
import type { PersonRecord } from '../src/domain/person.ts';
import { type EffectDeps, restoreAccess } from '../src/effects/connectorEffects.ts';
import { horizonMs, scheduleMilestones } from '../src/queues/milestones.ts';
import type { JobPorts } from './ports.ts';

export type EnsurePlanPorts = EffectDeps & Pick<JobPorts, 'queues' | 'settings'>;

/**
 * `created`: the record was just created by this write, so nothing was ever
 * reduced for the person and there is nothing to read back.
 */
export async function ensurePlan(
  ports: EnsurePlanPorts,
  record: PersonRecord,
  options: { created?: boolean } = {},
): Promise<void> {
  if (!options.created && grantsBelongBack(record, ports.now().getTime())) await restoreAccess(ports, record);
  await scheduleMilestones(ports.queues.milestones, record, ports.now().getTime(), horizonMs(ports.settings));
}
