/** Loads what the evidence report needs from the stores and builds it (src/domain/evidence.ts). */
import { buildEvidence, type EvidenceReport, holdSummary } from '../domain/evidence.ts';
import type { ActionsStore } from './actions.ts';
import type { AuditStore } from './audit.ts';
import type { EffectsStore } from './effects.ts';
import type { PeopleStore } from './people.ts';

export interface EvidenceSources {
  people: PeopleStore;
  effects: EffectsStore;
  audit: AuditStore;
  actions: ActionsStore;
  now: () => Date;
}

/** The report, or undefined for a person lastday has no record of. */
export async function loadEvidence(
  sources: EvidenceSources,
  personId: string,
): Promise<EvidenceReport | undefined> {
  const record = await sources.people.get(personId);
  if (!record) return undefined;
  const [effects, audit, chain, held] = await Promise.all([
    sources.effects.all(personId),
    sources.audit.list({ personId, limit: 5000 }),
    sources.audit.verify(),
    // Every action that was ever held, whatever became of it: the auditor asks who decided.
    sources.actions.everHeldOf(personId),
  ]);
  return buildEvidence({ record, effects, audit, chain, holds: held.map(holdSummary), now: sources.now() });
}
