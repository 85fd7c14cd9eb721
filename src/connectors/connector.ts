/**
 * The one narrow port through which lastday changes access anywhere. Every
 * configured connector gets every effect. Implementations must make each call
 * safe to repeat: removing a grant that is gone, restoring one that is there,
 * or disabling a disabled account all succeed without change.
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
}

/** What a connector reads back for a person. */
export interface AccessState {
  /** False when the person has no account there: nothing to reduce or revoke. */
  exists: boolean;
  active: boolean;
  /** Grants still held; `privileged` marks those `reduce` removes. */
  grants: Grant[];
}

export interface Connector {
  /** Unique name from the config (`directory` for the built-in one). */
  readonly name: string;
  readonly type: string;
  read(person: PersonRef): Promise<AccessState>;
  removeGrants(person: PersonRef, grants: readonly Grant[]): Promise<void>;
  restoreGrants(person: PersonRef, grants: readonly Grant[]): Promise<void>;
  /** Disables the account and removes what is left of its access. */
  disable(person: PersonRef): Promise<boolean | void>;
  /**
   * Re-enables the account (reinstatement), undoing what `disable` did; safe
   * to repeat. Resolves false when there is no account.
   */
  enable?(person: PersonRef): Promise<boolean | void>;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
}

/**
 * A connector failure. `retryable` false (401/403, a config error) means the
 * same call will not succeed by waiting; the milestone alerts at once.
 */
export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}
