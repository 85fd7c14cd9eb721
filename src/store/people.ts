/**
 * Person records: one compact JSON document per person (personCodec.ts), saved with an optimistic
 * revision check (a lock that expired under a long pause, or an HR event
 * applied without the lock, must not let two writers interleave), plus the
 * by-end index used for listings and reconcile and the next-due index the
 * horizon pass reads.
 */
import { oneScriptReaches, type RedisClient } from './redisClient.ts';
import { LastdayError } from '../domain/errors.ts';
import { nextDueMs } from '../domain/milestoneJobs.ts';
import type { PersonRecord } from '../domain/person.ts';
import type { AuditInput, AuditStore } from './audit.ts';
import type { KeyMark } from './events.ts';
import type { Keys } from './keys.ts';
import { markAndGetScript, savePersonQuietScript, savePersonScript } from './lua/scripts.ts';
import { snapshotsMember } from './effects.ts';
import { decodePerson, encodePerson } from './personCodec.ts';

export interface SaveOptions {
  /**
   * Keeps the record's cycle's reduce and revoke snapshots until then (ms),
   * written with the save or not at all (EffectsStore.keepSnapshotsUntil).
   */
  keepSnapshotsUntilMs?: number;
}

export class PeopleStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly audit: AuditStore,
  ) {}

  async get(personId: string): Promise<PersonRecord | undefined> {
    const raw = await this.redis.get(this.keys.person(personId));
    return raw ? decodePerson(raw) : undefined;
  }

  /**
   * The person, with `mark` set (SET NX) in the same step: one script where
   * one can reach both keys (a single Redis, or one slot of a cluster), else
   * the SET sent beside the read. For the HR event worker, whose first read
   * also notes its event as accepted (jobs/hrEvent.ts); the SET's answer is
   * not wanted.
   */
  async getMarking(personId: string, mark: KeyMark): Promise<PersonRecord | undefined> {
    const key = this.keys.person(personId);
    if (!oneScriptReaches(this.redis, [mark.key, key])) {
      const [, record] = await Promise.all([this.redis.set(mark.key, mark.value, 'NX'), this.get(personId)]);
      return record;
    }
    const raw = await markAndGetScript.run(this.redis, [mark.key, key], [mark.value]);
    return typeof raw === 'string' ? decodePerson(raw) : undefined;
  }

  async getMany(personIds: readonly string[]): Promise<PersonRecord[]> {
    if (personIds.length === 0) return [];
    const raws = await this.redis.mget(personIds.map((id) => this.keys.person(id)));
    return raws.flatMap((raw) => (raw ? [decodePerson(raw)] : []));
  }

  /**
   * Saves `record` if nobody wrote since `record.rev` was read; the stored copy
   * gets `rev + 1`. Appends `audit` and keeps the indexes in the same atomic
   * step. The HR event processor marks its event on its own (jobs/hrEvent.ts):
   * the event's key is global, the person's slot is their partition's.
   * `options.keepSnapshotsUntilMs` sets the snapshot-retention entry in the
   * same atomic step.
   * @throws LastdayError `conflict` when another writer got there first.
   */
  async save(record: PersonRecord, audit?: AuditInput, options: SaveOptions = {}): Promise<PersonRecord> {
    const next = { ...record, rev: record.rev + 1 };
    const endsAtMs = next.endsAt ? String(Date.parse(next.endsAt)) : '';
    const due = nextDueMs(next);
    const personKey = this.keys.person(record.person.id);
    const keys = [personKey, this.keys.peopleByEnd, this.keys.peopleByNextDue, this.keys.snapshotsUntil];
    const until = options.keepSnapshotsUntilMs;
    const args = [
      encodePerson(next),
      String(record.rev),
      record.person.id,
      endsAtMs,
      due === undefined ? '' : String(due),
      until === undefined ? '' : String(until),
      until === undefined ? '' : snapshotsMember(record.person.id, record.cycle),
    ];
    const saved = audit
      ? await this.audit.run(savePersonScript, keys, args, audit)
      : await savePersonQuietScript.run(this.redis, keys, args);
    if (Number(saved) !== 1) {
      throw new LastdayError('conflict', `person ${record.person.id} was changed concurrently; retrying`);
    }
    return next;
  }

  /** Person ids whose first open milestone is due in (fromMs, toMs], in due order. */
  async idsDueBetween(fromMs: number, toMs: number, limit = 1000, offset = 0): Promise<string[]> {
    const from = Number.isFinite(fromMs) ? `(${fromMs}` : '-inf';
    return this.redis.zrangebyscore(this.keys.peopleByNextDue, from, toMs, 'LIMIT', offset, limit);
  }

  /** Up to which instant (ms) the horizon pass added jobs; -Infinity before its first pass. */
  async horizonCovered(): Promise<number> {
    const raw = await this.redis.get(this.keys.horizonUntil);
    return raw === null ? Number.NEGATIVE_INFINITY : Number(raw);
  }

  async setHorizonCovered(untilMs: number): Promise<void> {
    await this.redis.set(this.keys.horizonUntil, String(untilMs));
  }

  /** Person ids whose `endsAt` lies in [fromMs, toMs], in end order. */
  async idsEndingBetween(fromMs: number, toMs: number, limit = 1000, offset = 0): Promise<string[]> {
    return this.redis.zrangebyscore(
      this.keys.peopleByEnd,
      Number.isFinite(fromMs) ? fromMs : '-inf',
      Number.isFinite(toMs) ? toMs : '+inf',
      'LIMIT',
      offset,
      limit,
    );
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.keys.peopleByEnd);
  }

  /** Walks every known person id in batches without loading them all at once. */
  async *scanIds(batch = 500): AsyncGenerator<string[]> {
    let offset = 0;
    for (;;) {
      const ids = await this.redis.zrange(this.keys.peopleByEnd, offset, offset + batch - 1);
      if (ids.length === 0) return;
      yield ids;
      offset += ids.length;
    }
  }

  /**
   * Walks every person id in batches of about `batch` with ZSCAN, for a walk
   * that moves people's `endsAt` as it goes (reconcile replanning a changed
   * end time): a rank-ordered walk would skip a person whose rank moved behind
   * the cursor, ZSCAN returns everyone present for the whole walk at least
   * once (rarely twice: callers must be idempotent).
   */
  async *scanIdsStable(batch = 500): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.zscan(this.keys.peopleByEnd, cursor, 'COUNT', batch);
      cursor = next;
      const ids = flat.filter((_, i) => i % 2 === 0);
      if (ids.length > 0) yield ids;
    } while (cursor !== '0');
  }
}
