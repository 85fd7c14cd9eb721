/**
 * The guard: one service behind the action routes, the CLI and the jobs, so an
 * approval from `lastday approve` obeys exactly the rules of
 * `POST /v1/actions/:id/approve`. It loads state, asks the domain (gate,
 * action state machine), and writes through the actions store, which applies
 * each change with its audit entry atomically.
 */
import type { Logger } from 'pino';
import type { Settings } from '../config/load.ts';
import {
  type ActionRecord,
  type ActionState,
  type ActionView,
  actionView,
  checkApproval,
  checkCancel,
  executionDueAt,
  guardStatus,
  holdExpiresAt,
} from '../domain/action.ts';
import { allowedFrom, sourcesOf } from '../domain/actionStates.ts';
import { LastdayError } from '../domain/errors.ts';
import { decide, type GateResult } from '../domain/gate.ts';
import { firstMatch } from '../domain/glob.ts';
import type { PersonRecord } from '../domain/person.ts';
import type { Policy } from '../domain/policy.ts';
import { type ActionsQueue, scheduleExecution, scheduleExpiries } from '../queues/actions.ts';
import type { Queue } from 'bullmq';
import type { Connector } from '../connectors/connector.ts';
import type { MilestoneJobData } from '../queues/names.ts';
import type { ActionIndex } from '../store/actionIndex.ts';
import type { ActionsStore } from '../store/actions.ts';
import type { EffectsStore } from '../store/effects.ts';
import type { PersonLock } from '../store/lock.ts';
import type { PeopleStore } from '../store/people.ts';
import type { Alerter } from '../telemetry/alerts.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { Notifier } from '../queues/notifier.ts';
import { auditPersonOf, reinstatedPersonOf } from '../domain/reinstatement.ts';
import { freezeActions } from './freeze.ts';
import { checkReinstatementApproval } from './reinstate.ts';
import { registerAction } from './registration.ts';
import { StatusHints } from './statusHints.ts';

/** Who asks: the token's name for the audit, and its person when it has one. */
export interface Actor {
  name: string;
  personId?: string | undefined;
}

export interface RegisterAnswer {
  actionId: string;
  state: ActionState;
  reason: string;
}

/**
 * The ports the guard works through (a narrow view of the context; the context
 * builds one guard per process and passes itself).
 */
export interface GuardPorts {
  actions: ActionsStore;
  /** The context's one `actions` queue producer. */
  queue: ActionsQueue;
  settings: Settings;
  policy: Policy;
  metrics: Metrics;
  log: Logger;
  now: () => Date;
  /** Tells approvers of new holds (never throws). */
  notifier: Notifier;
  // A reinstatement (./reinstate.ts) is lastday's own action: it replans the
  // person and restores access in every connector itself.
  people: PeopleStore;
  lock: PersonLock;
  effects: EffectsStore;
  connectors: readonly Connector[];
  alerts: Alerter;
  queues: { milestones: Queue<MilestoneJobData> };
  /**
   * A person's (approver's, reinstatement requester's) record and freeze mark,
   * from that person's own partition
   * (docs/cluster.md "Partitions"); default: this guard's actions store.
   */
  guardInputsOf?: (personId: string) => ReturnType<ActionsStore['guardInputsOf']>;
  /**
   * With more than one partition: where each action lives, claimed before an
   * action is written so an id is single-use across partitions
   * (store/actionIndex.ts). Absent with one partition.
   */
  actionIndex?: ActionIndex | undefined;
}

export class GuardService {
  readonly actions: ActionsStore;
  readonly queue: ActionsQueue;
  /** The initiator statuses registrations expect (a hint the registration script checks). */
  readonly statusHints: StatusHints;

  constructor(readonly ctx: GuardPorts) {
    this.actions = ctx.actions;
    this.queue = ctx.queue;
    // Real time, not ctx.now: a hint's age is about Redis changing under it, not the plan's clock.
    this.statusHints = new StatusHints(() => Date.now());
  }

  private get config() {
    return this.ctx.settings.config;
  }

  /** A person's record and freeze mark, read in that person's own partition. */
  guardInputsOf(personId: string): ReturnType<ActionsStore['guardInputsOf']> {
    return this.ctx.guardInputsOf ? this.ctx.guardInputsOf(personId) : this.actions.guardInputsOf(personId);
  }

  /** Registers an action (POST /v1/actions); see ./registration.ts. */
  register(raw: unknown, actor: Actor): Promise<RegisterAnswer> {
    return registerAction(this, raw, actor);
  }

  /** The `freeze` milestone hook; see ./freeze.ts. */
  freeze(record: PersonRecord): Promise<{ actions: { held: number; cancelled: number } }> {
    return freezeActions(this, record);
  }

  /** Schedules the expiry job of actions held at `heldAt` (policy.holdExpiryHours later). */
  async scheduleHoldExpiry(actionIds: readonly string[], heldAt: string): Promise<void> {
    const expiresAtMs = holdExpiresAt(heldAt, this.ctx.policy.holdExpiryHours);
    await scheduleExpiries(this.queue, actionIds, expiresAtMs, this.ctx.now().getTime());
  }

  /**
   * The gate (POST /v1/actions/:id/gate): one read, the pure decision, and a
   * write only when something changes: a pending action that must wait becomes
   * `held`, and an action's first `allow` is audited once.
   */
  async gate(actionId: string, actor: Actor): Promise<GateResult> {
    // performance.now(), not hrtime.bigint(): the same clock without a BigInt per reading.
    const started = performance.now();
    try {
      const result = await this.gateOnce(actionId, actor, 0);
      this.ctx.metrics.gateDecisions.inc({ decision: result.decision });
      return result;
    } finally {
      this.ctx.metrics.gateSeconds.observe((performance.now() - started) / 1e3);
    }
  }

  private async gateOnce(actionId: string, actor: Actor, depth: number): Promise<GateResult> {
    const read = await this.actions.readForGate(actionId);
    if (!read) throw new LastdayError('not_found', `no action ${actionId}`);
    const { action } = read;
    this.statusHints.set(action.initiatorId, read.initiatorStatus);
    const result = decide({
      action,
      initiatorStatus: read.initiatorStatus,
      protectedBy: firstMatch(this.config.protectedTargets, action.target),
    });
    // Only a pending action is written as held; otherwise (an approved action
    // without an approver: corrupt data) the answer is `hold` all the same. (The
    // table also lets approved become held: only for a callback whose outcome is
    // unknown, jobs/actions.ts.)
    if (result.state === 'held' && action.state === 'pending') {
      const now = this.ctx.now().toISOString();
      // Expiry job first (see freeze.ts): a failure here leaves the action as it was.
      await this.scheduleHoldExpiry([actionId], now);
      const moved = await this.actions.transition(
        action,
        allowedFrom([action.state], 'held'),
        'held',
        { reason: result.reason, heldAt: now, updatedAt: now },
        {
          at: now,
          type: 'action.held',
          actor: actor.name,
          personId: auditPersonOf(action),
          actionId,
          details: { by: 'gate', reason: result.reason },
        },
      );
      // It moved under us: decide again on the fresh state.
      if (moved.outcome !== 'ok' && depth < 3) return this.gateOnce(actionId, actor, depth + 1);
      // The rare path: only now is the initiator's record read (for the message).
      if (moved.outcome === 'ok') await this.notifyHeld([actionId], action.initiatorId);
    } else if (result.decision === 'allow' && !action.allowedAt) {
      // Audit the first allow only: the hot path stays read-only afterwards.
      const now = this.ctx.now().toISOString();
      await this.actions.transition(
        action,
        [action.state],
        action.state,
        { allowedAt: now },
        {
          at: now,
          type: 'action.allowed',
          actor: actor.name,
          personId: auditPersonOf(action),
          actionId,
          details: { reason: result.reason },
        },
        { onceField: 'allowedAt' },
      );
    }
    return result;
  }

  /**
   * Approves (POST /v1/actions/:id/approve): the approver is the caller's
   * person, never a body field. An approved managed action whose executeAt has
   * passed runs at once.
   * @throws LastdayError forbidden, not_found, self_approval, approver_departing, conflict
   */
  async approve(actionId: string, approverId: string | undefined, actor: Actor): Promise<ActionView> {
    if (!approverId) {
      throw new LastdayError('forbidden', `token ${actor.name} has no personId, so it cannot approve`);
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const action = await this.mustGet(actionId);
      const approver = await this.guardInputsOf(approverId);
      const approverStatus = guardStatus(approver.record, approver.mark);
      if (checkApproval(action, approverId, approverStatus).already) {
        await this.runIfDue(action); // a repeat after a failure to schedule
        return this.view(action);
      }
      // A reinstatement must still be possible (revoked, within the window).
      await checkReinstatementApproval(this, action);
      const now = this.ctx.now().toISOString();
      const reason = `approved by ${approverId}`;
      const moved = await this.actions.transition(
        action,
        sourcesOf('approved'),
        'approved',
        { approvedBy: approverId, approvedAt: now, reason, updatedAt: now },
        {
          at: now,
          type: 'action.approved',
          actor: approverId,
          personId: auditPersonOf(action),
          actionId,
          details: { via: actor.name, from: action.state, reason, approverStatus },
        },
      );
      if (moved.outcome !== 'ok') continue; // raced with another change: check again
      await this.runIfDue(action);
      return this.view(await this.mustGet(actionId));
    }
    throw new LastdayError('conflict', `action ${actionId} kept changing; retry`);
  }

  /**
   * An approved managed action whose executeAt has passed runs at once (its
   * scheduled run found it held); so does lastday's own (a reinstatement).
   */
  private async runIfDue(action: ActionRecord): Promise<void> {
    const nowMs = this.ctx.now().getTime();
    const due = reinstatedPersonOf(action) !== undefined ? nowMs : executionDueAt(action);
    if (due !== undefined && due <= nowMs) {
      await scheduleExecution(this.queue, action.actionId, nowMs, nowMs, 'approved');
    }
  }

  /**
   * Cancels (POST /v1/actions/:id/cancel): anything not executed yet.
   * @throws LastdayError not_found, conflict
   */
  async cancel(actionId: string, actor: Actor, why?: string): Promise<ActionView> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const action = await this.mustGet(actionId);
      if (checkCancel(action).already) return this.view(action);
      const now = this.ctx.now().toISOString();
      const who = actor.personId ?? actor.name;
      const reason = why ? `cancelled by ${who}: ${why}` : `cancelled by ${who}`;
      const moved = await this.actions.transition(
        action,
        sourcesOf('cancelled'),
        'cancelled',
        { cancelledBy: who, cancelledAt: now, reason, updatedAt: now },
        {
          at: now,
          type: 'action.cancelled',
          actor: who,
          personId: auditPersonOf(action),
          actionId,
          details: { via: actor.name, from: action.state, reason },
        },
      );
      if (moved.outcome === 'ok') return this.view(await this.mustGet(actionId));
    }
    throw new LastdayError('conflict', `action ${actionId} kept changing; retry`);
  }

  /** Cancels a hold nobody decided within `policy.holdExpiryHours` (the `expire` job). */
  async expire(
    actionId: string,
  ): Promise<{ outcome: 'expired' | 'not_held' } | { outcome: 'not_due'; dueMs: number }> {
    const action = await this.actions.get(actionId);
    if (!action || action.state !== 'held' || !action.heldAt) return { outcome: 'not_held' };
    const hours = this.ctx.policy.holdExpiryHours;
    const dueMs = holdExpiresAt(action.heldAt, hours);
    if (this.ctx.now().getTime() < dueMs) return { outcome: 'not_due', dueMs };
    const now = this.ctx.now().toISOString();
    const reason = `hold not decided within ${hours} h`;
    const moved = await this.actions.transition(
      action,
      allowedFrom(['held'], 'cancelled'),
      'cancelled',
      { cancelledBy: 'lastday', cancelledAt: now, reason, updatedAt: now },
      {
        at: now,
        type: 'action.expired',
        actor: 'lastday',
        personId: auditPersonOf(action),
        actionId,
        details: { reason, heldAt: action.heldAt },
      },
    );
    return { outcome: moved.outcome === 'ok' ? 'expired' : 'not_held' };
  }
  /**
   * Tells the approvers of actions just held (the notifier never throws). Only
   * on the rare path where something becomes held, so the extra reads are cheap.
   * `initiator`: their record, or their id to read it by.
   */
  async notifyHeld(
    actionIds: readonly string[],
    initiator: PersonRecord | string | undefined,
  ): Promise<void> {
    if (!this.ctx.notifier.enabled) return;
    try {
      if (typeof initiator === 'string') initiator = await this.ctx.people.get(initiator);
      const held = (await this.actions.getMany([...actionIds])).flatMap((a) =>
        a.state === 'held' && a.heldAt ? [{ ...a, heldAt: a.heldAt }] : [],
      );
      await this.ctx.notifier.holds(held, initiator);
    } catch (err) {
      this.ctx.log.error(
        { err: (err as Error).message },
        'held actions could not be read for their notification',
      );
    }
  }

  async get(actionId: string): Promise<ActionView> {
    return this.view(await this.mustGet(actionId));
  }

  /** Held actions, oldest hold first. */
  async holds(options: { limit?: number; offset?: number } = {}) {
    const limit = Math.min(Math.max(options.limit ?? 1000, 1), 10_000);
    const [ids, total] = await Promise.all([
      this.actions.idsInState('held', limit, options.offset ?? 0),
      this.actions.countInState('held'),
    ]);
    const holds = (await this.actions.getMany(ids))
      .filter((a) => a.state === 'held')
      .map((a) => this.view(a));
    return { holds, count: holds.length, total };
  }

  private async mustGet(actionId: string): Promise<ActionRecord> {
    const action = await this.actions.get(actionId);
    if (!action) throw new LastdayError('not_found', `no action ${actionId}`);
    return action;
  }

  private view(action: ActionRecord): ActionView {
    return actionView(action, this.ctx.policy.holdExpiryHours);
  }
}
