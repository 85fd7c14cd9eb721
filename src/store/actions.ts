/**
 * The action registry: one hash per action, indexed by state (sorted sets, for
 * holds and expiry) and by initiator (all their actions, and their pending ones
 * for `freeze`). Every write goes through a Lua script of ./lua/actions.ts so
 * the record, its indexes and its audit entry change together.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redisClient.ts';
import { ACTION_STATES, type ActionRecord, type ActionState, type GuardStatus } from '../domain/action.ts';
import type { PersonRecord } from '../domain/person.ts';
import type { AuditInput, AuditStore } from './audit.ts';
import { dropUndefined, fromFields, toFields } from './actionFields.ts';
import type { Keys } from './keys.ts';
import { decodePerson } from './personCodec.ts';
import {
  freezeBatchScript,
  gateReadScript,
  guardStatusScript,
  registerActionScript,
  markCallStartedScript,
  transitionActionScript,
} from './lua/actions.ts';

/** What the gate needs, read in one round trip. */
export interface GateRead {
  action: Pick<ActionRecord, 'actionId' | 'state' | 'initiatorId' | 'target' | 'kind'> & {
    approvedBy?: string;
    allowedAt?: string;
  };
  /** The initiator's guard status, computed by the script from their record and freeze mark. */
  initiatorStatus: GuardStatus;
}

export type RegisterResult =
  | { outcome: 'created' }
  /** The initiator's status is not the expected one: decide again on `status`. */
  | { outcome: 'retry'; status: GuardStatus }
  | { outcome: 'exists'; requestHash: string; state: ActionState; reason: string };

export type TransitionResult =
  | { outcome: 'ok'; from: ActionState }
  | { outcome: 'state'; state: ActionState }
  | { outcome: 'noop' }
  | { outcome: 'missing' };

/** Fields written with a transition (strings; undefined ones are skipped). */
export type ActionFields = Partial<
  Record<Exclude<keyof ActionRecord, 'payload' | 'state' | 'callStartedAt'>, string>
> & {
  /** `null` removes the field (the call's outcome is recorded). */
  callStartedAt?: string | null;
};

export interface FreezeItem {
  actionId: string;
  state: 'held' | 'cancelled';
  reason: string;
}

export function requestHash(canonical: string): string {
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export class ActionsStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly audit: AuditStore,
  ) {}

  /**
   * Creates the action with the state decided on `expectedStatus` (the
   * initiator's guard status), in one round trip: the script computes the
   * status from the initiator's record and freeze mark and answers `retry`
   * with the status it found when that is another one, `exists` when the id
   * is taken. `expectedStatus` undefined: not checked, for an initiator whose
   * record is in another partition (another slot in a cluster), which this
   * store cannot read in the same step.
   */
  async register(
    record: ActionRecord,
    hash: string,
    expectedStatus: GuardStatus | undefined,
    audit: AuditInput,
  ): Promise<RegisterResult> {
    const k = this.keys;
    const fields = {
      ...toFields(record),
      requestHash: hash,
      personKey: k.person(record.initiatorId),
      markKey: k.freezeMark(record.initiatorId),
    };
    const reply = (await this.audit.run(
      registerActionScript,
      [
        k.action(record.actionId),
        k.person(record.initiatorId),
        k.freezeMark(record.initiatorId),
        k.actionsByState(record.state),
        k.actionsByInitiator(record.initiatorId),
        k.actionsPendingOf(record.initiatorId),
      ],
      [
        expectedStatus ?? '',
        hash,
        record.state,
        String(Date.parse(record.createdAt)),
        record.actionId,
        JSON.stringify(fields),
      ],
      audit,
    )) as string[];
    if (reply[0] === 'exists') {
      return {
        outcome: 'exists',
        requestHash: reply[1] ?? '',
        state: reply[2] as ActionState,
        reason: reply[3] ?? '',
      };
    }
    if (reply[0] === 'retry') return { outcome: 'retry', status: reply[1] as GuardStatus };
    return { outcome: 'created' };
  }

  /** A person's guard status, computed in Redis (a short reply; see lua/guardStatus.ts). */
  async guardStatusOf(personId: string): Promise<GuardStatus> {
    const k = this.keys;
    return (await guardStatusScript.run(
      this.redis,
      [k.person(personId), k.freezeMark(personId)],
      [],
    )) as GuardStatus;
  }

  /** A person's HR record and freeze mark: what guardStatus needs (initiators and approvers). */
  async guardInputsOf(personId: string): Promise<{ record: PersonRecord | undefined; mark: string | null }> {
    const [[, raw], [, mark]] = (await this.redis
      .multi()
      .get(this.keys.person(personId))
      .get(this.keys.freezeMark(personId))
      .exec()) as [[unknown, string | null], [unknown, string | null]];
    return { record: raw ? decodePerson(raw) : undefined, mark };
  }

  /**
   * The gate's inputs in a single round trip (one Lua call), the initiator's
   * status computed in Redis: a short reply, no person record to parse.
   */
  async readForGate(actionId: string): Promise<GateRead | undefined> {
    const reply = (await gateReadScript.run(this.redis, [this.keys.action(actionId)], [])) as
      [string, string, string, string, string, string, string] | null;
    if (!reply) return undefined;
    const [state, initiatorId, approvedBy, allowedAt, target, kind, initiatorStatus] = reply;
    // Built field by field: no spread of a throwaway object per optional field (every gate request runs this).
    const action: GateRead['action'] = { actionId, state: state as ActionState, initiatorId, target, kind };
    if (approvedBy) action.approvedBy = approvedBy;
    if (allowedAt) action.allowedAt = allowedAt;
    return { action, initiatorStatus: initiatorStatus as GuardStatus };
  }

  async get(actionId: string): Promise<ActionRecord | undefined> {
    const raw = await this.redis.hgetall(this.keys.action(actionId));
    return raw.state ? fromFields(raw) : undefined;
  }

  async getMany(actionIds: readonly string[]): Promise<ActionRecord[]> {
    if (actionIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of actionIds) pipeline.hgetall(this.keys.action(id));
    const rows = (await pipeline.exec()) ?? [];
    return rows.flatMap(([err, raw]) => {
      const map = raw as Record<string, string> | null;
      return !err && map?.state ? [fromFields(map)] : [];
    });
  }

  /**
   * Moves the action to `to` if its state is one of `from`, writing `fields` and
   * the audit entry atomically. With `to` equal to the current state and
   * `onceField`, records the fields only the first time.
   */
  async transition(
    action: Pick<ActionRecord, 'actionId' | 'initiatorId'>,
    from: readonly ActionState[],
    to: ActionState,
    fields: ActionFields,
    audit: AuditInput,
    options: { onceField?: keyof ActionRecord; atMs?: number } = {},
  ): Promise<TransitionResult> {
    const k = this.keys;
    const reply = (await this.audit.run(
      transitionActionScript,
      [
        k.action(action.actionId),
        ...ACTION_STATES.map((s) => k.actionsByState(s)),
        k.actionsPendingOf(action.initiatorId),
      ],
      [
        from.join(','),
        to,
        String(options.atMs ?? Date.parse(audit.at)),
        action.actionId,
        JSON.stringify(dropUndefined(fields)),
        options.onceField ?? '',
      ],
      audit,
    )) as string[];
    switch (reply[0]) {
      case 'ok':
        return { outcome: 'ok', from: reply[1] as ActionState };
      case 'state':
        return { outcome: 'state', state: reply[1] as ActionState };
      case 'noop':
        return { outcome: 'noop' };
      default:
        return { outcome: 'missing' };
    }
  }

  /** Starts a freeze: from now on the person counts as frozen for this plan version. */
  async setFreezeMark(personId: string, planVersion: number): Promise<void> {
    await this.redis.set(this.keys.freezeMark(personId), String(planVersion));
  }

  /** Up to `limit` of the person's pending actions, with their kinds. */
  async pendingOf(personId: string, limit: number): Promise<{ actionId: string; kind: string }[]> {
    const ids = await this.redis.zrange(this.keys.actionsPendingOf(personId), 0, limit - 1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.action(id), 'kind');
    const kinds = (await pipeline.exec()) ?? [];
    return ids.map((actionId, i) => ({ actionId, kind: String(kinds[i]?.[1] ?? '') }));
  }

  /**
   * Applies one freeze batch atomically with its one audit entry; `moved` when
   * some listed action was no longer pending (nothing converted: read again).
   * See freezeBatchScript.
   */
  async freezeBatch(
    personId: string,
    items: readonly FreezeItem[],
    at: string,
    audit: AuditInput,
  ): Promise<{ held: number; cancelled: number } | { moved: number }> {
    const k = this.keys;
    const keys = [
      k.actionsPendingOf(personId),
      k.actionsByState('pending'),
      k.actionsByState('held'),
      k.actionsByState('cancelled'),
    ];
    const args: string[] = [String(Date.parse(at)), String(items.length), at];
    for (const item of items) {
      keys.push(k.action(item.actionId), k.auditByAction(item.actionId));
      args.push(item.actionId, item.state, item.reason);
    }
    // One entry for the batch, indexed under each action by the script itself.
    const [a, b] = (await this.audit.run(freezeBatchScript, keys, args, {
      ...audit,
      actionId: undefined,
    })) as number[];
    return a === -1 ? { moved: b ?? 0 } : { held: a ?? 0, cancelled: b ?? 0 };
  }

  /** Action ids in `state`, oldest first (by the instant they entered it). */
  async idsInState(state: ActionState, limit: number, offset = 0): Promise<string[]> {
    return this.redis.zrange(this.keys.actionsByState(state), offset, offset + limit - 1);
  }

  async countInState(state: ActionState): Promise<number> {
    return this.redis.zcard(this.keys.actionsByState(state));
  }

  /** Every action id a person started, oldest first. */
  /** The person's latest reinstatement request (an action id), if any. */
  async reinstatementOf(personId: string): Promise<string | null> {
    return this.redis.get(this.keys.reinstateRequest(personId));
  }

  /** Records `actionId` as the person's latest reinstatement request. */
  async setReinstatementOf(personId: string, actionId: string): Promise<void> {
    await this.redis.set(this.keys.reinstateRequest(personId), actionId);
  }

  /** How many actions are in each state (for /metrics). */
  async countByState(): Promise<Record<ActionState, number>> {
    const counts = await Promise.all(ACTION_STATES.map((s) => this.countInState(s)));
    return Object.fromEntries(ACTION_STATES.map((s, i) => [s, counts[i] ?? 0])) as Record<
      ActionState,
      number
    >;
  }

  /** Every action of `personId` that was ever held, whatever became of it (the evidence report). */
  async everHeldOf(personId: string): Promise<ActionRecord[]> {
    const records = await this.getMany(await this.idsOf(personId, 10_000));
    return records.filter((a) => a.heldAt !== undefined);
  }

  async idsOf(personId: string, limit = 1000): Promise<string[]> {
    return this.redis.zrange(this.keys.actionsByInitiator(personId), 0, limit - 1);
  }

  /**
   * Claims the right to call an action's callback for `ttlMs`: two executors of
   * the same action (a scheduled run and a post-approval run) never call at once.
   */
  async claim(actionId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.actionClaim(actionId), token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /**
   * Records that the callback is about to be sent (`callStartedAt`), if the
   * action is still `expected`; false when it moved on. Awaited before the
   * call: the mark must be in Redis before anything can reach the far side.
   */
  async markCallStarted(actionId: string, expected: ActionState, at: string): Promise<boolean> {
    return (await markCallStartedScript.run(this.redis, [this.keys.action(actionId)], [expected, at])) === 1;
  }

  /** Clears the mark when the call's outcome is known and is not a success (no answer sent, or a failure answered). */
  async clearCallStarted(actionId: string): Promise<void> {
    await this.redis.hdel(this.keys.action(actionId), 'callStartedAt');
  }

  async release(actionId: string, token: string): Promise<void> {
    await this.redis.eval(
      `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
      1,
      this.keys.actionClaim(actionId),
      token,
    );
  }
}
