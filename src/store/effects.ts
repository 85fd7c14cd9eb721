/**
 * Per (person, milestone, connector) effect records. They make connector work
 * safe to repeat: a job that runs twice finds the effect recorded and does not
 * act or audit again, and a failing connector is retried without redoing the
 * connectors that already succeeded.
 *
 * `reduce` and `revoke` write their intended snapshot (`pending`) before
 * removing anything, so a crash between removal and recording cannot lose what
 * must be restored.
 */
import type { RedisClient } from './redisClient.ts';
import type { AuditInput, AuditStore } from './audit.ts';
import type { Keys } from './keys.ts';
import { effectIntentScript, effectTransitionScript } from './lua/scripts.ts';
import { Script } from './lua/script.ts';

/**
 * Trims one cycle's reduce and revoke snapshots to grant ids: what a
 * reinstatement would need (system, role, privileged) goes, the ids (the
 * evidence of what was removed) stay. Records without grants are left alone.
 * KEYS: effects hash, snapshotsUntil. ARGV: cycle, member, expiredAt.
 * Returns the number of records trimmed.
 */
const expireSnapshotsScript = new Script(
  'expireSnapshots',
  `local n = 0
local prefixes = {'c' .. ARGV[1] .. '.reduce|', 'c' .. ARGV[1] .. '.revoke|'}
local fields = redis.call('HKEYS', KEYS[1])
for _, f in ipairs(fields) do
  if string.sub(f, -5) == ':data' then
    for _, p in ipairs(prefixes) do
      if string.sub(f, 1, #p) == p then
        local ok, data = pcall(cjson.decode, redis.call('HGET', KEYS[1], f))
        if ok and type(data) == 'table' and type(data.grants) == 'table' and #data.grants > 0 and not data.snapshotExpiredAt then
          local ids = {}
          for i, g in ipairs(data.grants) do ids[i] = {id = g.id} end
          data.grants = ids
          data.snapshotExpiredAt = ARGV[3]
          redis.call('HSET', KEYS[1], f, cjson.encode(data))
          n = n + 1
        end
      end
    end
  end
end
redis.call('ZREM', KEYS[2], ARGV[2])
return n`,
);

/** A person's cycle in the snapshot-retention index (`snapshotsUntil`). */
export function snapshotsMember(personId: string, cycle: number): string {
  return JSON.stringify([cycle, personId]);
}

/**
 * `pending`: intent recorded (reduce/revoke snapshot, verify's drift seen);
 * `done` / `not_found`: finished; `restored`: reduce's snapshot put back;
 * `disabled`: revoke's first step, the account disabled; `enabled`: a
 * reinstatement's first step, the account enabled again.
 */
export type EffectState = 'pending' | 'done' | 'restored' | 'failed' | 'not_found' | 'disabled' | 'enabled';

export interface EffectRecord<D = Record<string, unknown>> {
  state: EffectState;
  data: D;
}

/**
 * The hash field prefix of one (effect, connector) record: `<field>:state` and
 * `<field>:data`. Connector names are validated config names; effect names are our own.
 */
export function effectField(effect: string, connector: string): string {
  return `${effect}|${connector}`;
}

export class EffectsStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly audit: AuditStore,
  ) {}

  private field(effect: string, connector: string): string {
    return effectField(effect, connector);
  }

  async get<D = Record<string, unknown>>(
    personId: string,
    effect: string,
    connector: string,
  ): Promise<EffectRecord<D> | undefined> {
    const f = this.field(effect, connector);
    const [state, data] = await this.redis.hmget(this.keys.effects(personId), `${f}:state`, `${f}:data`);
    if (!state) return undefined;
    return { state: state as EffectState, data: data ? (JSON.parse(data) as D) : ({} as D) };
  }

  /** The states of several (effect, connector) records of one person, in one read; undefined where none. */
  async states(
    personId: string,
    records: readonly (readonly [effect: string, connector: string])[],
  ): Promise<(EffectState | undefined)[]> {
    if (records.length === 0) return [];
    const fields = records.map(([effect, connector]) => `${this.field(effect, connector)}:state`);
    const values = await this.redis.hmget(this.keys.effects(personId), ...fields);
    return values.map((v) => (v ? (v as EffectState) : undefined));
  }

  /**
   * Writes a state without auditing (intent records such as `pending`), unless
   * the effect is already `done` or `not_found`: returns false then (nothing written).
   */
  async put(
    personId: string,
    effect: string,
    connector: string,
    state: EffectState,
    data: unknown,
  ): Promise<boolean> {
    const written = await effectIntentScript.run(
      this.redis,
      [this.keys.effects(personId)],
      [this.field(effect, connector), state, JSON.stringify(data)],
    );
    return Number(written) === 1;
  }

  /**
   * Moves the effect to `state` and audits it, once: returns false when it was
   * already in that state (nothing written).
   */
  async transition(
    personId: string,
    effect: string,
    connector: string,
    state: EffectState,
    data: unknown,
    audit: AuditInput,
  ): Promise<boolean> {
    const seq = await this.audit.run(
      effectTransitionScript,
      [this.keys.effects(personId)],
      [this.field(effect, connector), state, JSON.stringify(data)],
      audit,
    );
    return Number(seq) > 0;
  }

  /**
   * Keeps the reduce and revoke snapshots of `cycle` (what a reinstatement
   * restores) until `untilMs`; `expireSnapshots` trims them after.
   */
  async keepSnapshotsUntil(personId: string, cycle: number, untilMs: number): Promise<void> {
    await this.redis.zadd(this.keys.snapshotsUntil, untilMs, snapshotsMember(personId, cycle));
  }

  /**
   * Trims up to `limit` people's snapshots whose keeping ended before `nowMs`
   * to grant ids. Returns how many people and records were trimmed, and
   * whether more are due.
   */
  async expireSnapshots(
    nowMs: number,
    limit: number,
    expiredAt: string,
  ): Promise<{ people: number; records: number; more: boolean }> {
    const due = await this.redis.zrangebyscore(
      this.keys.snapshotsUntil,
      '-inf',
      `(${nowMs}`,
      'LIMIT',
      0,
      limit,
    );
    let records = 0;
    for (const member of due) {
      let cycle: unknown;
      let personId: unknown;
      try {
        [cycle, personId] = JSON.parse(member) as unknown[];
      } catch {
        // Not ours: dropped below.
      }
      if (typeof cycle !== 'number' || typeof personId !== 'string') {
        await this.redis.zrem(this.keys.snapshotsUntil, member);
        continue;
      }
      records += Number(
        await expireSnapshotsScript.run(
          this.redis,
          [this.keys.effects(personId), this.keys.snapshotsUntil],
          [cycle, member, expiredAt],
        ),
      );
    }
    return { people: due.length, records, more: due.length === limit };
  }

  /** Every effect of a person, for evidence: `{ "reduce|directory": {state, data} }`. */
  async all(personId: string): Promise<Record<string, EffectRecord>> {
    const raw = await this.redis.hgetall(this.keys.effects(personId));
    const out: Record<string, EffectRecord> = {};
    for (const [k, v] of Object.entries(raw)) {
      const [f, part] = [k.slice(0, k.lastIndexOf(':')), k.slice(k.lastIndexOf(':') + 1)];
      const rec = out[f] ?? { state: 'pending', data: {} };
      out[f] = rec;
      if (part === 'state') rec.state = v as EffectState;
      else rec.data = JSON.parse(v) as Record<string, unknown>;
    }
    return out;
  }
}
