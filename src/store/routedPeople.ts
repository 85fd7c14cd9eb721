/**
 * The people of every partition behind the one PeopleStore interface, for the
 * global ports (docs/cluster.md "Partitions"): a read or save by person goes
 * to that person's partition; listings and scans walk every partition. Built
 * only with more than one partition; per-person work (processors) uses the
 * partition's own store.
 */
import type { PersonRecord } from '../domain/person.ts';
import type { AuditInput, AuditStore } from './audit.ts';
import type { Keys } from './keys.ts';
import type { Partitions } from './partitions.ts';
import { PeopleStore, type SaveOptions } from './people.ts';
import type { RedisClient } from './redisClient.ts';

export class RoutedPeopleStore extends PeopleStore {
  constructor(
    redis: RedisClient,
    keys: Keys,
    audit: AuditStore,
    private readonly partitions: Partitions,
    private readonly storeOf: (p: number) => PeopleStore,
  ) {
    super(redis, keys, audit);
  }

  private of(personId: string): PeopleStore {
    return this.storeOf(this.partitions.partitionOf(personId));
  }

  override get(personId: string): Promise<PersonRecord | undefined> {
    return this.of(personId).get(personId);
  }

  override async getMany(personIds: readonly string[]): Promise<PersonRecord[]> {
    const groups = new Map<number, string[]>();
    for (const id of personIds) {
      const p = this.partitions.partitionOf(id);
      groups.set(p, [...(groups.get(p) ?? []), id]);
    }
    const found = new Map<string, PersonRecord>();
    await Promise.all(
      [...groups.entries()].map(async ([p, ids]) => {
        for (const r of await this.storeOf(p).getMany(ids)) found.set(r.person.id, r);
      }),
    );
    return personIds.flatMap((id) => {
      const r = found.get(id);
      return r ? [r] : [];
    });
  }

  override save(record: PersonRecord, audit?: AuditInput, options?: SaveOptions): Promise<PersonRecord> {
    return this.of(record.person.id).save(record, audit, options);
  }

  /** Merged in end order over every partition (reads the records to order them). */
  override async idsEndingBetween(fromMs: number, toMs: number, limit = 1000, offset = 0): Promise<string[]> {
    const parts = await Promise.all(
      this.partitions.all().map(async (p) => {
        const store = this.storeOf(p);
        return store.getMany(await store.idsEndingBetween(fromMs, toMs, offset + limit));
      }),
    );
    return parts
      .flat()
      .sort((a, b) => endMs(a) - endMs(b))
      .slice(offset, offset + limit)
      .map((r) => r.person.id);
  }

  override async count(): Promise<number> {
    const counts = await Promise.all(this.partitions.all().map((p) => this.storeOf(p).count()));
    return counts.reduce((a, b) => a + b, 0);
  }

  override async *scanIds(batch = 500): AsyncGenerator<string[]> {
    for (const p of this.partitions.all()) yield* this.storeOf(p).scanIds(batch);
  }

  override async *scanIdsStable(batch = 500): AsyncGenerator<string[]> {
    for (const p of this.partitions.all()) yield* this.storeOf(p).scanIdsStable(batch);
  }
}

function endMs(r: PersonRecord): number {
  return r.endsAt ? Date.parse(r.endsAt) : 0;
}
