/**
 * The one narrow port through which lastday changes access anywhere. Every
 * configured connector gets every effect. Implementations must make each call
 * safe to repeat: removing a grant that is gone, restoring one that is there,
 * or disabling a disabled account all succeed without change.
 *
 * Contract v1.1 (revoke order): `disable` touches the account and nothing
 * else, so no read of groups or grants can stand between a leaver and a
 * disabled account. What `revoke` removes afterwards comes from `read`, and a
 * failure there is retried with the account already disabled.
 */
import type { Grant } from '../store/directory.ts';

export type { Grant };

/** Who the connector is acting on; connectors choose which field they match on. */
export interface PersonRef {
  id: string;
  email?: string | undefined;
  name?: string | undefined;
  /**
   * Offboarding cycle (PersonRecord.cycle). Connectors that name their calls
   * (webhook ids) use it so a new offboarding after a cancellation is not
   * taken for a duplicate of the old one.
   */
  cycle?: number | undefined;
  /**
   * Plan version (PersonRecord.planVersion): a `reduce` redone after an
   * extension moved it is a new call, a retry of the same job is not.
   */
  planVersion?: number | undefined;
  /**
   * The effect lastday is carrying out (`reduce`, `restore`, `revoke`,
   * `verify`, …). Connectors that name their calls include it, so the
   * re-disable `verify` sends on drift is not taken for a repeat of the
   * disable `revoke` sent.
   */
  effect?: string | undefined;
}

/** What a connector reads back for a person. */
export interface AccessState {
  /** False when the person has no account there: nothing to reduce or revoke. */
  exists: boolean;
  active: boolean;
  /**
   * Grants still held; `privileged` marks those `reduce` removes. For an
   * inactive account these are what `revoke` should remove there (a
   * connector configured to keep some memberships leaves those out).
   */
  grants: Grant[];
  /**
   * Grants the connector sees but could not classify, because reading their
   * details failed (a group whose name could not be read). The grants it could
   * classify are still acted on; the effect is then retried for these.
   */
  unresolved?: Grant[];
}

/** What a one-step removal (`Connector.removeAndReport`) did. */
export interface RemovalReport {
  /** False when the system has no account for the person. */
  exists: boolean;
  /** The grants the system removed (as far as it reports them). */
  removed: Grant[];
}

/** What `Connector.revokeRecorded` did. `finished`: an earlier run had done it (nothing written). */
export type RecordedRevoke =
  { status: 'finished' } | { status: 'not_found' } | { status: 'done'; removed: Grant[] };

/** The effect records of one `revoke` (scoped to the cycle, e.g. `c1.revoke`, `c1.disable`). */
export interface RevokeRecords {
  revoke: string;
  disable: string;
}

/** What a removal covers: `privileged` grants (reduce) or everything `remaining` (revoke). */
export type RemovalScope = 'privileged' | 'remaining';

export interface Connector {
  /** Unique name from the config (`directory` for the built-in one). */
  readonly name: string;
  readonly type: string;
  read(person: PersonRef): Promise<AccessState>;
  removeGrants(person: PersonRef, grants: readonly Grant[]): Promise<void>;
  restoreGrants(person: PersonRef, grants: readonly Grant[]): Promise<void>;
  /**
   * Disables the account, and only that: no read of groups or grants comes
   * before it or is part of it. Resolves false when there is no account.
   */
  disable(person: PersonRef): Promise<boolean>;
  /** Re-enables the account (reinstatement); grants are `restoreGrants`' job. Resolves false when there is no account. */
  enable(person: PersonRef): Promise<boolean>;
  /**
   * Optional, for systems that decide on their side what to remove (a webhook
   * receiver): removes in one call the privileged grants (`reduce`) or
   * everything left (`revoke`) and reports what went. `known` is what lastday
   * read there beforehand, or `[]` when that read failed: with this method a
   * failing read never blocks the removal.
   */
  removeAndReport?(person: PersonRef, scope: RemovalScope, known: readonly Grant[]): Promise<RemovalReport>;
  /**
   * Optional, for a connector whose accounts live in lastday's own Redis (the
   * built-in directory): the whole `revoke` there (disable, snapshot, remove,
   * record the effects, audit) as one atomic write. effects/revoke.ts uses it
   * instead of the step-by-step path; nothing external is called, so nothing
   * has to wait on anything else.
   */
  revokeRecorded?(person: PersonRef, records: RevokeRecords, read?: unknown): Promise<RecordedRevoke>;
  /**
   * Optional, with `revokeRecorded`: reads what that write starts from, so a
   * revoke job can send it in the person lock's round trip (jobs/milestone.ts)
   * and pass it on as `read`; the write then goes out at once. Never rejects
   * (undefined: `revokeRecorded` reads for itself). A read gone stale by then
   * costs only the re-read the write does when what it finds has changed.
   */
  readForRevoke?(personId: string): Promise<unknown>;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
}

/**
 * A connector failure. `retryable` false (401/403, a config error) means the
 * same call will not succeed by waiting; the milestone alerts at once.
 *
 * The message reaches the audit (alerts) and the milestone's `lastError`,
 * which every viewer reads: it names the connector, the request (no query,
 * no credentials) and the status, never bytes of the response body. What the
 * server said (`detail`) is kept apart, short, for the operator's log only.
 */
export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** The server's own explanation, bounded and with our credentials blanked; logs only. */
    readonly detail?: string,
  ) {
    super(message);
  }
}
