/** Loads what the evidence report needs and builds it (src/domain/evidence.ts). */
import { buildEvidence, type EvidenceReport } from '../domain/evidence.ts';
import type { Context } from './context.ts';
import type { OpsProviders } from './opsProviders.ts';

/** The report, or undefined for a person lastday has no record of. */
export async function loadEvidence(
  ctx: Context,
  providers: OpsProviders,
  personId: string,
): Promise<EvidenceReport | undefined> {
  const record = await ctx.people.get(personId);
  if (!record) return undefined;
  const [effects, audit, chain, holds] = await Promise.all([
    ctx.effects.all(personId),
    ctx.audit.list({ personId, limit: 5000 }),
    ctx.audit.verify(),
    providers.holds?.forPerson(ctx, personId),
  ]);
  return buildEvidence({
    record,
    effects,
    audit,
    chain,
    ...(holds ? { holds } : {}),
    now: ctx.now(),
  });
}
