/**
 * Model-based test (fast-check `commands`): sequences of HR events — ending,
 * extension, termination, cancellation, duplicate and out-of-order delivery —
 * and clock advances, applied to the real processors on real Redis, checked
 * against a small in-memory model after every step.
 *
 * Deterministic: the context's clock is injected, and milestones whose instant
 * has come are run by calling the milestone processor directly (`runMilestoneJob`)
 * instead of waiting for BullMQ delays, so a failing sequence replays exactly.
 *
 * Invariants checked after every command:
 * - no privileged grant survives `reduce` (while reduce is done, none is in the directory);
 * - no access survives `revoke` (from the model's revoke instant on: disabled, no grants);
 * - a cancel before `revoke` leaves nothing revoked (active, every grant back);
 * - before revoke and without a done reduce, every grant is there (reduced grants are restored).
 *
 * - no held action runs without an eligible second person: destructive actions
 *   (by the modelled person, or by an active tool on a protected target) are
 *   registered, approved and gated through GuardService (what the routes call),
 *   with the `freeze` milestone's hook wired as in the runtime. The gate may
 *   only `allow` an action that was never held and is not protected and whose
 *   initiator is not leaving, or one approved by an eligible person; an
 *   approval is accepted only from someone other than the initiator who is not
 *   reduced, frozen or revoked (that status is read from the store; the
 *   timeline invariants above pin it to the model, and a person whose plan's
 *   revoke is done must read `revoked`).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { runMilestoneJob } from '../../jobs/milestone.ts';
import type { Context } from '../../src/app/context.ts';
import { type HrEvent, hrEventSchema } from '../../src/domain/hrEvent.ts';
import { guardStatus, isLeaving } from '../../src/domain/action.ts';
import { LastdayError } from '../../src/domain/errors.ts';
import { isOpen, milestoneIndex } from '../../src/domain/milestone.ts';
import type { GuardService } from '../../src/guard/service.ts';
import { testContext, testSettings } from '../helpers/lastday.ts';

const RUNS = Number(process.env.FC_RUNS ?? 200);
/** An active tool (no HR record) that starts actions on protected targets, and an active colleague. */
const TOOL = 'tool-runner';
const PEER = 'peer-approver';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A Monday morning, so business-day arithmetic has a whole week either side. */
const START = Date.parse('2026-11-02T08:00:00Z');
const GRANTS = [
  { id: 'g-admin', system: 'cms', role: 'admin', privileged: true },
  { id: 'g-read', system: 'cms', role: 'reader', privileged: false },
];

interface Model {
  now: number;
  /** occurredAt (ms) of the newest applied event; null before the first. */
  lastOccurredAt: number | null;
  /** The revoke instant of the current plan; null when nothing is planned. */
  revokeAt: number | null;
  cancelled: boolean;
  /** Revoke happened at some point: sticky, nothing re-enables automatically. */
  revoked: boolean;
  /** The last event sent (for the duplicate command). */
  lastSent: HrEvent | null;
  /** Destructive actions registered in this run. */
  actions: ModelAction[];
}

interface ModelAction {
  actionId: string;
  initiatorId: string;
  protected: boolean;
  /** Seen `held` at some point: from then on only an eligible approval lets it run. */
  everHeld: boolean;
  /** The eligible approver whose approval was accepted, if any. */
  approvedBy: string | null;
}

interface Real {
  ctx: Context;
  guard: GuardService;
  clock: { ms: number };
  personId: string;
  seq: number;
}

let ctx: Context;
let guard: GuardService;
const clock = { ms: START };
let runCounter = 0;

beforeAll(async () => {
  ctx = await testContext(testSettings({ protectedTargets: ['account:@vip-*'] }), () => new Date(clock.ms));
  guard = ctx.guard;
});
afterAll(async () => {
  await ctx?.close();
});

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function event(real: Real, fields: Partial<HrEvent> & Pick<HrEvent, 'type'>, occurredAt: number): HrEvent {
  real.seq++;
  return hrEventSchema.parse({
    eventId: `${real.personId}-e${real.seq}`,
    occurredAt: iso(occurredAt),
    person: { id: real.personId, employment: 'contractor', timezone: 'UTC' },
    ...fields,
  });
}

/** What the model expects of an event: stale ones change nothing. */
function applyToModel(m: Model, e: HrEvent): void {
  const at = Date.parse(e.occurredAt);
  if (m.lastOccurredAt !== null && at < m.lastOccurredAt) return;
  m.lastOccurredAt = at;
  if (e.type === 'offboarding.cancelled') {
    m.cancelled = true;
    return;
  }
  m.cancelled = false;
  m.revokeAt =
    e.type === 'contract.ending'
      ? Date.parse(`${e.lastDay}T${e.endTime ?? '17:00'}${(e.endTime ?? '17:00').length === 5 ? ':00' : ''}Z`)
      : e.effectiveAt
        ? Date.parse(e.effectiveAt)
        : m.now;
}

/** What the worker would do by `now`: every open milestone that is due runs, in order. */
async function runDue(real: Real): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const record = await real.ctx.people.get(real.personId);
    if (!record) return;
    const due = record.milestones
      .filter((m) => isOpen(m) && Date.parse(m.dueAt) <= real.clock.ms)
      .sort((a, b) => milestoneIndex(a.name) - milestoneIndex(b.name));
    if (due.length === 0) return;
    for (const m of due) {
      await runMilestoneJob(real.ctx, {
        personId: real.personId,
        version: record.planVersion,
        milestone: m.name,
      });
    }
  }
  throw new Error('milestones kept coming due');
}

async function send(m: Model, real: Real, e: HrEvent): Promise<void> {
  await applyEvent(real.ctx, e);
  applyToModel(m, e);
  m.lastSent = e;
  await settle(m, real);
}

/** Runs what is due, advances the model's revoke, then checks every invariant. */
async function settle(m: Model, real: Real): Promise<void> {
  await runDue(real);
  if (!m.cancelled && m.revokeAt !== null && m.now >= m.revokeAt) m.revoked = true;
  await checkInvariants(m, real);
}

async function checkInvariants(m: Model, real: Real): Promise<void> {
  const [user, record] = await Promise.all([
    real.ctx.directory.get(real.personId),
    real.ctx.people.get(real.personId),
  ]);
  expect(user).toBeDefined();
  const ids = user!.grants.map((g) => g.id);
  const state = (name: string) => record?.milestones.find((x) => x.name === name)?.state;

  if (m.revoked) {
    // No access survives revoke.
    expect(user!.active).toBe(false);
    expect(ids).toEqual([]);
  } else {
    expect(state('revoke')).not.toBe('done');
    expect(user!.active).toBe(true);
  }
  // No privileged grant survives reduce (a cancellation before revoke restores them).
  if (state('reduce') === 'done' && !m.cancelled)
    expect(user!.grants.filter((g) => g.privileged)).toEqual([]);
  // A cancel before revoke leaves nothing revoked; an unreduced plan has every grant.
  if (!m.revoked && (m.cancelled || state('reduce') !== 'done')) {
    expect(ids.sort()).toEqual(['g-admin', 'g-read']);
  }
  if (record) expect(record.cancelled).toBe(m.cancelled);
  // The guard reads a revoked person as revoked (a later plan's own revoke may still be ahead).
  if (m.revoked && state('revoke') === 'done') expect(await statusOf(real, real.personId)).toBe('revoked');
  // Holds seen now (freeze, the gate) count from here on.
  const held = new Set(
    (await real.guard.actions.getMany(m.actions.map((a) => a.actionId)))
      .filter((stored) => stored.state === 'held')
      .map((stored) => stored.actionId),
  );
  for (const a of m.actions) if (held.has(a.actionId)) a.everHeld = true;
}

async function statusOf(real: Real, personId: string) {
  const inputs = await real.guard.actions.guardInputsOf(personId);
  return guardStatus(inputs.record, inputs.mark);
}

type Cmd = fc.AsyncCommand<Model, Real>;

class Ending implements Cmd {
  constructor(
    readonly days: number,
    readonly endTime: string,
  ) {}
  check = () => true;
  async run(m: Model, real: Real) {
    const lastDay = new Date(m.now + this.days * DAY).toISOString().slice(0, 10);
    await send(m, real, event(real, { type: 'contract.ending', lastDay, endTime: this.endTime }, m.now));
  }
  toString = () => `ending(+${this.days}d ${this.endTime})`;
}

class Terminate implements Cmd {
  constructor(readonly offsetMin: number | null) {}
  check = () => true;
  async run(m: Model, real: Real) {
    const fields = this.offsetMin === null ? {} : { effectiveAt: iso(m.now + this.offsetMin * 60_000) };
    await send(m, real, event(real, { type: 'contract.terminated', ...fields }, m.now));
  }
  toString = () => `terminate(${this.offsetMin ?? 'now'})`;
}

class Cancel implements Cmd {
  check = () => true;
  async run(m: Model, real: Real) {
    await send(m, real, event(real, { type: 'offboarding.cancelled' }, m.now));
  }
  toString = () => 'cancel';
}

/** The last event again, same eventId: at-least-once delivery. Nothing may change. */
class Duplicate implements Cmd {
  check = (m: Readonly<Model>) => m.lastSent !== null;
  async run(m: Model, real: Real) {
    await applyEvent(real.ctx, m.lastSent!);
    await settle(m, real);
  }
  toString = () => 'duplicate';
}

/** A new event that happened before the newest applied one arrives late: recorded and ignored. */
class Reorder implements Cmd {
  constructor(
    readonly kind: 'ending' | 'cancel',
    readonly days: number,
  ) {}
  check = (m: Readonly<Model>) => m.lastOccurredAt !== null;
  async run(m: Model, real: Real) {
    const occurredAt = m.lastOccurredAt! - HOUR;
    const lastDay = new Date(m.now + this.days * DAY).toISOString().slice(0, 10);
    const e =
      this.kind === 'ending'
        ? event(real, { type: 'contract.ending', lastDay }, occurredAt)
        : event(real, { type: 'offboarding.cancelled' }, occurredAt);
    const before = await real.ctx.people.get(real.personId);
    const result = await applyEvent(real.ctx, e);
    expect(result.outcome).toBe('stale');
    expect((await real.ctx.people.get(real.personId))?.planVersion).toBe(before?.planVersion);
    m.lastSent = e;
    await settle(m, real);
  }
  toString = () => `late-${this.kind}(+${this.days}d)`;
}

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, real: Real) {
    m.now += this.ms;
    real.clock.ms = m.now;
    await settle(m, real);
  }
  toString = () => `advance(${Math.round(this.ms / 60_000)}min)`;
}

/** A destructive action by the modelled person, or by the tool on a protected target. */
class RegisterAction implements Cmd {
  constructor(readonly byTool: boolean) {}
  check = () => true;
  async run(m: Model, real: Real) {
    const n = m.actions.length;
    const initiatorId = this.byTool ? TOOL : real.personId;
    const action: ModelAction = {
      actionId: `${real.personId}-a${n}`,
      initiatorId,
      protected: this.byTool,
      everHeld: false,
      approvedBy: null,
    };
    const leaving = isLeaving(await statusOf(real, initiatorId));
    const answer = await real.guard.register(
      {
        actionId: action.actionId,
        initiatorId,
        kind: 'account.deactivate',
        target: this.byTool ? `account:@vip-${n}` : `account:${n}`,
      },
      { name: 'model' },
    );
    expect(answer.state).toBe(action.protected || leaving ? 'held' : 'pending');
    m.actions.push(action);
    await checkInvariants(m, real);
  }
  toString = () => `register(${this.byTool ? 'tool, protected' : 'person'})`;
}

/** An approval by the initiator, an active colleague, or the modelled person (eligible or departing). */
class Approve implements Cmd {
  constructor(
    readonly index: number,
    readonly who: 'initiator' | 'peer' | 'person',
  ) {}
  check = (m: Readonly<Model>) => m.actions.length > 0;
  async run(m: Model, real: Real) {
    const a = m.actions[this.index % m.actions.length]!;
    const approverId = this.who === 'initiator' ? a.initiatorId : this.who === 'peer' ? PEER : real.personId;
    const before = await real.guard.actions.get(a.actionId);
    const departing = ['reduced', 'frozen', 'revoked'].includes(await statusOf(real, approverId));
    const outcome = await real.guard
      .approve(a.actionId, approverId, { name: 'model', personId: approverId })
      .then((v) => v.state)
      .catch((err: unknown) => (err instanceof LastdayError ? err.code : Promise.reject(err)));
    if (approverId === a.initiatorId) expect(outcome).toBe('self_approval');
    else if (departing) expect(outcome).toBe('approver_departing');
    else if (before?.state === 'pending' || before?.state === 'held') {
      expect(outcome).toBe('approved');
      a.approvedBy ??= approverId;
    } else if (before?.state === 'approved') expect(outcome).toBe('approved');
    await checkInvariants(m, real);
  }
  toString = () => `approve(#${this.index}, ${this.who})`;
}

/** A tool asks the gate right before running the action. */
class Gate implements Cmd {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.actions.length > 0;
  async run(m: Model, real: Real) {
    const a = m.actions[this.index % m.actions.length]!;
    const leaving = isLeaving(await statusOf(real, a.initiatorId));
    const result = await real.guard.gate(a.actionId, { name: 'model' });
    if (result.decision === 'allow') {
      // No held (or protected, or leaver's) action runs without an eligible second person.
      if (a.everHeld || a.protected || leaving) expect(a.approvedBy, `${a.actionId} allowed`).not.toBeNull();
      if (a.approvedBy) expect(a.approvedBy).not.toBe(a.initiatorId);
    }
    if (result.state === 'held') a.everHeld = true;
    await checkInvariants(m, real);
  }
  toString = () => `gate(#${this.index})`;
}

// Listed twice below: commands are picked uniformly, and these need actions registered first.
const approveCommand = fc
  .tuple(fc.nat(20), fc.constantFrom<'initiator' | 'peer' | 'person'>('initiator', 'peer', 'person'))
  .map(([i, who]) => new Approve(i, who));
const gateCommand = fc.nat(20).map((i) => new Gate(i));

const allCommands = [
  fc
    .tuple(fc.integer({ min: -1, max: 12 }), fc.constantFrom('09:30', '17:00', '23:59:59'))
    .map(([d, t]) => new Ending(d, t)),
  fc.option(fc.constantFrom(-90, 0, 45, 600), { nil: null }).map((o) => new Terminate(o)),
  fc.constant(new Cancel()),
  fc.constant(new Duplicate()),
  fc
    .tuple(fc.constantFrom<'ending' | 'cancel'>('ending', 'cancel'), fc.integer({ min: 0, max: 12 }))
    .map(([k, d]) => new Reorder(k, d)),
  fc.constantFrom(30 * 60_000, 6 * HOUR, DAY, 3 * DAY).map((ms) => new Advance(ms)),
  fc.boolean().map((byTool) => new RegisterAction(byTool)),
  approveCommand,
  approveCommand,
  gateCommand,
  gateCommand,
];

describe('offboarding model', () => {
  it('real processors agree with the model under any sequence of HR events, actions, approvals and clock advances', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(allCommands, { maxCommands: 40, size: '+1' }), async (cmds) => {
        runCounter++;
        const personId = `model/${runCounter}:p`;
        clock.ms = START;
        await ctx.directory.put(personId, { active: true, grants: GRANTS }, iso(START));
        const model: Model = {
          now: START,
          lastOccurredAt: null,
          revokeAt: null,
          cancelled: false,
          revoked: false,
          lastSent: null,
          actions: [],
        };
        await fc.asyncModelRun(() => ({ model, real: { ctx, guard, clock, personId, seq: 0 } }), cmds);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
