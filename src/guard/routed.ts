/**
 * The guard of a partitioned lastday (docs/cluster.md "Partitions"): an action
 * lives in its home person's partition (its initiator's, or for a
 * reinstatement the person reinstated), so registration goes to the
 * initiator's partition and the gate stays one script there; a call by action
 * id reads the action index (one HGET, store/actionIndex.ts) and goes to that
 * partition, falling back to asking every partition for an action the index
 * lacks (then indexing it); the list of holds merges every partition's. With
 * one partition nobody builds this: the context's guard is the partition's own.
 */
import { auditPersonOf } from '../domain/reinstatement.ts';
import type { PersonRecord } from '../domain/person.ts';
import type { ActionIndex } from '../store/actionIndex.ts';
import type { Partitions } from '../store/partitions.ts';
import { type Actor, type GuardPorts, GuardService } from './service.ts';

export class RoutedGuard extends GuardService {
  constructor(
    ports: GuardPorts,
    private readonly partitions: Partitions,
    private readonly guardOf: (p: number) => GuardService,
    private readonly index: ActionIndex,
  ) {
    super(ports);
  }

  /** The guard of the partition holding `actionId`, or partition 0's (which answers not_found). */
  private async holding(actionId: string): Promise<GuardService> {
    const home = await this.index.homeOf(actionId);
    if (home !== undefined) return this.guardOf(this.partitions.partitionOf(home));
    // Not indexed: written before the index existed. Ask every partition, then index it.
    const found = await Promise.all(this.partitions.all().map((p) => this.guardOf(p).actions.get(actionId)));
    const p = found.findIndex((a) => a !== undefined);
    const action = found[p];
    if (!action) return this.guardOf(0);
    await this.index.repair(actionId, auditPersonOf(action));
    return this.guardOf(p);
  }

  override register(raw: unknown, actor: Actor) {
    const initiatorId: unknown = (raw as { initiatorId?: unknown } | null)?.initiatorId;
    const p = typeof initiatorId === 'string' ? this.partitions.partitionOf(initiatorId) : 0;
    return this.guardOf(p).register(raw, actor);
  }

  override freeze(record: PersonRecord) {
    return this.guardOf(this.partitions.partitionOf(record.person.id)).freeze(record);
  }

  override async gate(actionId: string, actor: Actor) {
    return (await this.holding(actionId)).gate(actionId, actor);
  }

  override async approve(actionId: string, approverId: string | undefined, actor: Actor) {
    return (await this.holding(actionId)).approve(actionId, approverId, actor);
  }

  override async cancel(actionId: string, actor: Actor, why?: string) {
    return (await this.holding(actionId)).cancel(actionId, actor, why);
  }

  override async expire(actionId: string) {
    return (await this.holding(actionId)).expire(actionId);
  }

  override async get(actionId: string) {
    return (await this.holding(actionId)).get(actionId);
  }

  /** Held actions of every partition, oldest hold first. */
  override async holds(options: { limit?: number; offset?: number } = {}) {
    const limit = Math.min(Math.max(options.limit ?? 1000, 1), 10_000);
    const offset = options.offset ?? 0;
    const parts = await Promise.all(
      this.partitions.all().map((p) => this.guardOf(p).holds({ limit: Math.min(offset + limit, 10_000) })),
    );
    const holds = parts
      .flatMap((part) => part.holds)
      .sort((a, b) => (a.heldAt ?? '').localeCompare(b.heldAt ?? ''))
      .slice(offset, offset + limit);
    return { holds, count: holds.length, total: parts.reduce((n, part) => n + part.total, 0) };
  }
}
