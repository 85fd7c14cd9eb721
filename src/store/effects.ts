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
import type { Redis } from 'ioredis';
import type { AuditInput, AuditStore } from './audit.ts';
import type { Keys } from './keys.ts';
import { effectIntentScript, effectTransitionScript } from './lua/scripts.ts';

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

export class EffectsStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly audit: AuditStore,
  ) {}

  private field(effect: string, connector: string): string {
    // Connector names are validated config names; effect names are our own.
    return `${effect}|${connector}`;
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
