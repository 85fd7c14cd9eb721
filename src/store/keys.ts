/**
 * Every Redis key lastday writes, in one place. All start with the configured
 * prefix (the same one BullMQ uses), and every external id is encoded so a `:`
 * in a person id can never collide with another key (see domain/ids.ts).
 *
 * On Redis Cluster the prefix is hash-tagged (`clusterPrefix`): the Lua
 * scripts touch several of these keys at once and need them in one slot (the
 * gate's read script also reaches an initiator's keys through key names stored
 * on the action, to stay one round trip).
 */
import { encodeId } from '../domain/ids.ts';

export type Keys = ReturnType<typeof createKeys>;

export { clusterPrefix } from '../domain/ids.ts';

export function createKeys(prefix: string) {
  const k = (...parts: string[]) => [prefix, ...parts].join(':');
  return {
    prefix,
    /** String: JSON PersonRecord. */
    person: (personId: string) => k('person', encodeId(personId)),
    /** Sorted set: personId scored by `endsAt` (ms); every known person is here. */
    peopleByEnd: k('people', 'by-end'),
    /**
     * Sorted set: personId scored by the `dueAt` (ms) of the first open milestone
     * of its plan; absent with nothing open. The horizon pass reads it
     * (src/domain/milestoneJobs.ts); every person save keeps it in step.
     */
    peopleByNextDue: k('people', 'by-next-due'),
    /** String: the instant (ms) up to which the horizon pass has added the jobs of peopleByNextDue. */
    horizonUntil: k('people', 'horizon-until'),
    /** String with TTL: the per-person processing lock (token). */
    personLock: (personId: string) => k('lock', 'person', encodeId(personId)),
    /** Hash: per (cycle, effect, connector) state and data. */
    effects: (personId: string) => k('effects', encodeId(personId)),
    /**
     * Sorted set: `[cycle, personId]` (JSON) scored by the instant (ms) until
     * which that cycle's reduce and revoke snapshots are kept for a
     * reinstatement; the retention task trims them after (store/effects.ts).
     */
    snapshotsUntil: k('effects', 'snapshots-until'),
    /** String: intake record of an HR event id (idempotency across all ways in). */
    eventSeen: (eventId: string) => k('event', encodeId(eventId)),
    /**
     * String: set once an HR event id was applied (or recorded as stale) by the
     * worker, by versions before the person record kept its handled events
     * (PersonRecord.recentEvents): read for their people, no longer written.
     */
    eventApplied: (eventId: string) => k('event-applied', encodeId(eventId)),
    /** String with TTL: a Standard Webhooks `webhook-id` already accepted. */
    webhookSeen: (webhookId: string) => k('webhook-id', encodeId(webhookId)),
    /** Stream: rejected HR events with their reasons. */
    rejected: k('rejected'),
    /** Built-in directory: hash {active, updatedAt} and hash grantId → JSON grant. */
    directoryUser: (personId: string) => k('dir', encodeId(personId)),
    directoryGrants: (personId: string) => k('dir', encodeId(personId), 'grants'),
    /** Audit chain: sequence counter, head hash, entries stream, per-person/action indexes. */
    auditSeq: k('audit', 'seq'),
    auditHead: k('audit', 'head'),
    auditLog: k('audit', 'log'),
    /** String with TTL: the audit appender whose turn it is to write (store/auditChain.ts). */
    auditTurn: k('audit', 'turn'),
    /**
     * Hash: person id → the seqs of their entries, comma-separated. One field
     * per person instead of one list key each (~60 B instead of ~180 B).
     */
    auditPeople: k('audit', 'people'),
    /** List of seqs: a person's entries written before `auditPeople` (read, never written). */
    auditByPerson: (personId: string) => k('audit', 'person', encodeId(personId)),
    auditByAction: (actionId: string) => k('audit', 'action', encodeId(actionId)),
    /** Hash: one registered destructive action (fields of ActionRecord, see store/actions.ts). */
    action: (actionId: string) => k('action', encodeId(actionId)),
    /**
     * Hash, global, with more than one partition: action id → its home person,
     * whose partition holds it (store/actionIndex.ts).
     */
    actionHome: k('actions', 'home'),
    /** String: set once `actionHome` listed every action (a start with partitions fills it in). */
    actionHomeComplete: k('actions', 'home-complete'),
    /** String with TTL: the executor currently calling an action's callback. */
    actionClaim: (actionId: string) => k('action', encodeId(actionId), 'claim'),
    /** Sorted set per state: actionId scored by the instant it entered that state (ms). */
    actionsByState: (state: string) => k('actions', 'state', state),
    /** Sorted set: every action a person started, scored by registration (ms). */
    actionsByInitiator: (personId: string) => k('actions', 'initiator', encodeId(personId)),
    /** Sorted set: the person's `pending` actions only, what `freeze` drains. */
    actionsPendingOf: (personId: string) => k('actions', 'pending', encodeId(personId)),
    /** String: the action id of the person's latest reinstatement request (guard/reinstate.ts). */
    reinstateRequest: (personId: string) => k('guard', 'reinstate', encodeId(personId)),
    /** String: the plan version whose `freeze` hook has started for this person (see domain/action.ts). */
    freezeMark: (personId: string) => k('guard', 'frozen', encodeId(personId)),
    /** String with TTL: set once an overdue milestone of one plan version was alerted on. */
    overdueAlerted: (personId: string, version: number, milestone: string) =>
      k('ops', 'overdue-alerted', encodeId(personId), `v${version}`, milestone),
    /** String: JSON of the last overdue run ({at, count, byMilestone}), read by /metrics. */
    overdueSnapshot: k('ops', 'overdue'),
    /** String: fingerprint of the policy of the scheduler that started last; only it replans. */
    policyInForce: k('ops', 'policy-in-force'),
    /** String: fingerprint of the policy the last complete reconcile pass replanned everyone under. */
    policyReconciled: k('ops', 'policy-reconciled'),
    /** String: JSON summary of the last run of each ops job (`reconcile`, …). */
    opsLastRun: (job: string) => k('ops', 'last-run', job),
    /** String with TTL: set once the lateness of a cron after one last run was alerted on. */
    cronLateAlerted: (job: string, episode: string) => k('ops', 'cron-late', job, encodeId(episode)),
    /** Hash: name → heartbeat instant of running worker processes. */
    workersAlive: k('workers'),
    /**
     * String with TTL: a web console session, by the SHA-256 of its cookie value
     * (someone who can read Redis still cannot present a session id).
     */
    consoleSession: (idDigest: string) => k('console', 'session', idDigest),
    /** String with TTL: an OpenID Connect sign-in under way (state, nonce, PKCE verifier). */
    consoleOidc: (idDigest: string) => k('console', 'oidc', idDigest),
  };
}
