/**
 * The evidence report: the page an auditor asks for about one leaver. Built by
 * a pure function from data the caller loaded (record, effect records, the
 * person's audit entries, the chain check, holds), so the HTTP route and the
 * CLI print the same thing and tests need no Redis.
 *
 * It answers: what was planned and when, what was done and how late, what each
 * connector removed, what the person's pending destructive actions became, and
 * whether the audit chain that says so verifies. Controls it maps to:
 * SOC 2 CC6.2 (access removed when no longer authorised), FedRAMP PS-4
 * (revoke within 4 hours of termination), PCI DSS 8.2.5 (terminated users'
 * access revoked immediately; lastday reads "immediately" as 15 minutes).
 *
 * An effect before its instant is never "on time": a milestone done before its
 * `dueAt` (only possible in data from before the early-run guard) shows a
 * negative lag, is flagged `early`, and fails every control that rests on it.
 */
import type { ActionRecord } from './action.ts';
import type { MilestoneName } from './milestone.ts';
import { type PersonRecord, statusOf } from './person.ts';
import { REINSTATE_KIND } from './reinstatement.ts';

/** A hold on a destructive action the person started (from the action gate). */
export interface HoldSummary {
  actionId: string;
  kind: string;
  target: string;
  state: string;
  heldAt?: string;
  reason?: string;
  /** Who approved or cancelled it, and when. */
  decidedBy?: string;
  decidedAt?: string;
}

/** An action as the report shows a hold: what it was, and who decided it. */
export function holdSummary(a: ActionRecord): HoldSummary {
  const decidedBy = a.approvedBy ?? a.cancelledBy;
  const decidedAt = a.approvedAt ?? a.cancelledAt;
  return {
    actionId: a.actionId,
    kind: a.kind,
    target: a.target,
    state: a.state,
    ...(a.heldAt ? { heldAt: a.heldAt } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
    ...(decidedBy ? { decidedBy } : {}),
    ...(decidedAt ? { decidedAt } : {}),
  };
}

/** The shape of an audit entry the report reads (see store/audit.ts). */
export interface EvidenceAuditEntry {
  seq: number;
  at: string;
  type: string;
  actor: string;
  actionId?: string;
  details: Record<string, unknown>;
}

export interface EvidenceInput {
  record: PersonRecord;
  /** Effect records: `c<cycle>.<effect>|<connector>` → {state, data}. */
  effects: Record<string, { state: string; data: Record<string, unknown> }>;
  audit: readonly EvidenceAuditEntry[];
  chain: { ok: boolean; entries: number; brokenAt?: number; reason?: string };
  /** Undefined when no action gate is installed. */
  holds?: readonly HoldSummary[];
  now: Date;
}

export type ControlResult = 'pass' | 'fail' | 'pending' | 'not_applicable';

export interface EvidenceReport {
  generatedAt: string;
  person: {
    id: string;
    name?: string;
    email?: string;
    employment: string;
    timezone: string;
  };
  status: string;
  lastDay: string | null;
  endTime: string | null;
  endsAt: string | null;
  reinstatementRequired: boolean;
  cycle: number;
  /** Every plan HR events (and policy changes, `policy.replanned`) produced, oldest first. */
  plans: {
    planVersion: number;
    at: string;
    eventId: string;
    eventType: string;
    lastDay: unknown;
    endsAt: unknown;
  }[];
  milestones: {
    name: MilestoneName;
    /** The instant of the first plan of this cycle that had this milestone. */
    firstPlannedAt?: string;
    dueAt: string;
    /** When lastday could first act on it, when a late HR event planned it after `dueAt`. */
    actionableAt?: string;
    state: string;
    doneAt?: string;
    /** doneAt − dueAt, in whole seconds; negative (at least 1 s) when done before its instant. */
    lagSeconds?: number;
    /** Done before its `dueAt`: not on time, whatever the controls' limits. */
    early?: boolean;
    /** Runs of its job that came before its instant and were put back (audit `milestone.early_run`). */
    earlyRunsPutBack?: number;
    lastError?: string;
  }[];
  connectors: {
    connector: string;
    effect: string;
    cycle: number;
    state: string;
    at?: string;
    /** Grant ids removed (reduce) or left when disabled (revoke). */
    removed: string[];
    drift?: boolean;
  }[];
  alerts: { at: string; kind: string; message: string }[];
  /** Requests to undo a revoke (contract v1.1), oldest first, with what became of them. */
  reinstatement?: ReinstatementEvidence;
  holds: { available: boolean; items: HoldSummary[] };
  audit: { personEntries: number; chainOk: boolean; chainEntries: number; brokenAt?: number };
  controls: { control: string; requirement: string; result: ControlResult; detail: string }[];
}

export interface ReinstatementEvidence {
  requests: {
    actionId: string;
    at: string;
    requestedBy: string;
    reason?: string;
    approvedBy?: string;
    approvedAt?: string;
    /** How the request ended when it did not reinstate (cancelled, expired). */
    closed?: string;
  }[];
  /** When every connector had re-enabled the person. */
  reinstatedAt?: string;
  approvalToEnabledMs?: number;
  connectors: { connector: string; enabledAt?: string; restoredAt?: string; restored: string[] }[];
}

/** PCI DSS 8.2.5's "immediately", as lastday measures it. */
export const IMMEDIATE_MINUTES = 15;
/** FedRAMP PS-4: disable system access within 4 hours of termination. */
export const PS4_HOURS = 4;

export function buildEvidence(input: EvidenceInput): EvidenceReport {
  const { record, audit, now } = input;
  const cycle = record.cycle;
  const status = statusOf(record);

  const applied = audit.filter((e) => e.type === 'hr_event.applied');
  const plans = audit.flatMap((e) => {
    if (e.type === 'hr_event.applied') {
      return [
        {
          planVersion: Number(e.details.planVersion ?? 0),
          at: e.at,
          eventId: String(e.details.eventId ?? ''),
          eventType: String(e.details.type ?? ''),
          lastDay: e.details.lastDay ?? null,
          endsAt: e.details.endsAt ?? null,
        },
      ];
    }
    if (e.type !== 'policy.replanned') return [];
    // A replan under a changed policy (jobs/ops/replanPolicy.ts): no HR event, the policy's fingerprints instead.
    const hash = e.details.policyHash as { from?: unknown; to?: unknown } | undefined;
    const version = e.details.planVersion as { to?: unknown } | undefined;
    return [
      {
        planVersion: Number(version?.to ?? 0),
        at: e.at,
        eventId: `policy ${String(hash?.from ?? 'none')} → ${String(hash?.to ?? '')}`,
        eventType: 'policy.replanned',
        lastDay: e.details.lastDay ?? null,
        endsAt: e.details.endsAt ?? null,
      },
    ];
  });
  // Plans of the current cycle start after the last cancellation.
  const lastCancel = applied.map((e) => e.details.type).lastIndexOf('offboarding.cancelled');
  const cyclePlans = applied.slice(lastCancel + 1);
  const firstPlanned = (name: MilestoneName) => {
    for (const e of cyclePlans) {
      const ms = (e.details.milestones as { name: string; dueAt: string }[] | undefined) ?? [];
      const m = ms.find((x) => x.name === name);
      if (m) return m.dueAt;
    }
    return undefined;
  };

  const cycleStart = cyclePlans[0] ? Date.parse(cyclePlans[0].at) : -Infinity;
  const putBack = (name: MilestoneName) =>
    audit.filter(
      (e) =>
        e.type === 'milestone.early_run' && e.details.milestone === name && Date.parse(e.at) >= cycleStart,
    ).length;

  const milestones = record.milestones.map((m) => {
    const first = firstPlanned(m.name);
    const earlyRuns = putBack(m.name);
    return {
      name: m.name,
      ...(first ? { firstPlannedAt: first } : {}),
      dueAt: m.dueAt,
      ...(m.actionableAt ? { actionableAt: m.actionableAt } : {}),
      state: m.state,
      ...(m.doneAt ? { doneAt: m.doneAt, ...lag(m.doneAt, m.dueAt) } : {}),
      ...(earlyRuns > 0 ? { earlyRunsPutBack: earlyRuns } : {}),
      ...(m.lastError ? { lastError: m.lastError } : {}),
    };
  });

  const effectAt = (effect: string, connector: string) =>
    audit.findLast((e) => e.type === `effect.${effect}` && e.details.connector === connector)?.at;
  const connectors = Object.entries(input.effects)
    .map(([key, rec]) => {
      const [scoped = '', connector = ''] = key.split('|');
      const m = /^c(\d+)\.(.+)$/.exec(scoped);
      const effectCycle = m ? Number(m[1]) : 0;
      const effect = m ? m[2]! : scoped;
      const grants = (rec.data.grants as { id: string }[] | undefined) ?? [];
      const at = effectAt(effect, connector);
      return {
        connector,
        effect,
        cycle: effectCycle,
        state: rec.state,
        ...(at ? { at } : {}),
        removed: grants.map((g) => g.id),
        ...(typeof rec.data.drift === 'boolean' ? { drift: rec.data.drift } : {}),
      };
    })
    .sort(
      (a, b) =>
        a.cycle - b.cycle ||
        effectOrder(a.effect) - effectOrder(b.effect) ||
        a.connector.localeCompare(b.connector),
    );

  const alerts = audit
    .filter((e) => e.type.startsWith('alert.'))
    .map((e) => ({
      at: e.at,
      kind: e.type.slice('alert.'.length),
      message: String(e.details.message ?? ''),
    }));

  const reinstatement = reinstatementOf(audit);
  const report: EvidenceReport = {
    generatedAt: now.toISOString(),
    person: {
      id: record.person.id,
      ...(record.person.name ? { name: record.person.name } : {}),
      ...(record.person.email ? { email: record.person.email } : {}),
      employment: record.person.employment,
      timezone: record.person.timezone,
    },
    status,
    lastDay: record.lastDay,
    endTime: record.endTime,
    endsAt: record.endsAt,
    reinstatementRequired: record.reinstatementRequired,
    cycle,
    plans,
    milestones,
    connectors,
    alerts,
    ...(reinstatement ? { reinstatement } : {}),
    holds: { available: input.holds !== undefined, items: [...(input.holds ?? [])] },
    audit: {
      personEntries: audit.length,
      chainOk: input.chain.ok,
      chainEntries: input.chain.entries,
      ...(input.chain.brokenAt !== undefined ? { brokenAt: input.chain.brokenAt } : {}),
    },
    controls: [],
  };
  report.controls = controls(report, record, now);
  return report;
}

/** Lag of a done milestone; an early one never rounds to 0 (it is not on time). */
function lag(doneAt: string, dueAt: string): { lagSeconds: number; early?: true } {
  const ms = Date.parse(doneAt) - Date.parse(dueAt);
  if (ms >= 0) return { lagSeconds: Math.round(ms / 1000) };
  return { lagSeconds: -Math.max(1, Math.round(-ms / 1000)), early: true };
}

/** The reinstatement trail, from the person's audit entries; undefined when none was requested. */
function reinstatementOf(audit: readonly EvidenceAuditEntry[]): ReinstatementEvidence | undefined {
  const requests = audit
    .filter((e) => e.type === 'action.registered' && e.details.kind === REINSTATE_KIND)
    .map((e) => {
      const actionId = e.actionId ?? '';
      const of = (type: string) => audit.find((x) => x.type === type && x.actionId === actionId);
      const approved = of('action.approved');
      const closed = of('action.expired') ?? of('action.cancelled');
      const why = (e.details.reinstatement as { reason?: unknown } | undefined)?.reason;
      return {
        actionId,
        at: e.at,
        requestedBy: String(e.details.requestedBy ?? e.actor),
        ...(typeof why === 'string' ? { reason: why } : {}),
        ...(approved ? { approvedBy: approved.actor, approvedAt: approved.at } : {}),
        ...(closed ? { closed: `${closed.type.slice('action.'.length)} ${closed.at}` } : {}),
      };
    });
  if (requests.length === 0) return undefined;
  const done = audit.findLast((e) => e.type === 'person.reinstated');
  const byConnector = new Map<string, ReinstatementEvidence['connectors'][number]>();
  const entry = (connector: string) => {
    const c = byConnector.get(connector) ?? { connector, restored: [] };
    byConnector.set(connector, c);
    return c;
  };
  for (const e of audit) {
    const connector = e.details.connector;
    if (typeof connector !== 'string') continue;
    if (e.type === 'effect.enable') entry(connector).enabledAt = e.at;
    if (e.type === 'effect.reinstate') {
      const c = entry(connector);
      c.restoredAt = e.at;
      c.restored = ((e.details.restored as unknown[] | undefined) ?? []).map(String);
    }
  }
  return {
    requests,
    ...(done ? { reinstatedAt: done.at } : {}),
    ...(typeof done?.details.approvalToEnabledMs === 'number'
      ? { approvalToEnabledMs: done.details.approvalToEnabledMs }
      : {}),
    connectors: [...byConnector.values()].sort((a, b) => a.connector.localeCompare(b.connector)),
  };
}

function effectOrder(effect: string): number {
  const i = (['reduce', 'restore', 'disable', 'revoke', 'verify', 'enable', 'reinstate'] as const).indexOf(
    effect as 'reduce',
  );
  return i < 0 ? 99 : i;
}

function controls(report: EvidenceReport, record: PersonRecord, now: Date): EvidenceReport['controls'] {
  const revoke = report.milestones.find((m) => m.name === 'revoke');
  const verify = report.milestones.find((m) => m.name === 'verify');
  const cancelled = record.cancelled && revoke?.state !== 'done';
  const within = (limitMinutes: number): { result: ControlResult; detail: string } => {
    if (cancelled || !revoke) return { result: 'not_applicable', detail: 'no departure planned (cancelled)' };
    if (revoke.doneAt !== undefined) {
      const lag = revoke.lagSeconds ?? 0;
      if (revoke.early) return { result: 'fail', detail: earlyDetail(revoke) };
      return {
        result: lag <= limitMinutes * 60 ? 'pass' : 'fail',
        detail: `revoked ${revoke.doneAt}, ${formatLag(lag)} after ${revoke.dueAt}`,
      };
    }
    const deadline = Date.parse(revoke.dueAt) + limitMinutes * 60_000;
    return now.getTime() > deadline
      ? { result: 'fail', detail: `not revoked; due ${revoke.dueAt}` }
      : { result: 'pending', detail: `revoke due ${revoke.dueAt}` };
  };
  const ps4 = within(PS4_HOURS * 60);
  const pci = within(IMMEDIATE_MINUTES);
  const drift = report.connectors.some((c) => c.effect === 'verify' && c.cycle === record.cycle && c.drift);
  // Every milestone that changes or checks access must have happened at or after its instant.
  const early = report.milestones.filter(
    (m) => m.early && (m.name === 'reduce' || m.name === 'revoke' || m.name === 'verify'),
  );
  let cc62: { result: ControlResult; detail: string };
  if (cancelled) cc62 = { result: 'not_applicable', detail: 'no departure planned (cancelled)' };
  else if (!report.audit.chainOk) cc62 = { result: 'fail', detail: 'the audit chain does not verify' };
  else if (early.length > 0) cc62 = { result: 'fail', detail: early.map(earlyDetail).join('; ') };
  else if (verify?.state === 'done')
    cc62 = {
      result: 'pass',
      detail: drift
        ? 'access found after revoke was removed again and alerted on'
        : 'every connector read back with no access left',
    };
  else if (ps4.result === 'fail') cc62 = { result: 'fail', detail: ps4.detail };
  else
    cc62 = { result: 'pending', detail: verify ? `read-back due ${verify.dueAt}` : 'no read-back planned' };
  return [
    {
      control: 'SOC 2 CC6.2',
      requirement: 'access removed when no longer authorised, and checked',
      ...cc62,
    },
    {
      control: 'FedRAMP PS-4',
      requirement: `system access disabled within ${PS4_HOURS} hours of termination`,
      ...ps4,
    },
    {
      control: 'PCI DSS 8.2.5',
      requirement: `access of terminated users revoked immediately (≤ ${IMMEDIATE_MINUTES} min)`,
      ...pci,
    },
  ];
}

function earlyDetail(m: EvidenceReport['milestones'][number]): string {
  return `${m.name} took effect EARLY: done ${m.doneAt}, ${formatLag(-(m.lagSeconds ?? 0))} before its due time ${m.dueAt} (an effect before its instant is not on time)`;
}

/** `3 s`, `12 min`, `4.5 h`. */
export function formatLag(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
