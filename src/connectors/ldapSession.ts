/**
 * Bound LDAP connections for one connector: a small pool of ldapts clients,
 * each bound as the service account, at most `concurrency` in use at once, and
 * the one place where LDAP failures become ConnectorErrors.
 *
 * A connection is never used unbound. An unbound (anonymous) search of a
 * directory that hides people from anonymous readers finds nobody, and "no
 * such person" would be recorded as nothing to revoke. So every client binds
 * before its first use, rebinds itself after a transparent reconnect
 * (ldapts `autoRebind`), and one that failed for any reason other than an LDAP
 * result is dropped rather than reused.
 *
 * Classification:
 * - invalidCredentials (49) on bind: non-retryable, naming the bind DN (never
 *   the password): waiting will not fix a wrong password;
 * - busy (51), unavailable (52), timeLimitExceeded (3), operationsError (1),
 *   other (80), timeouts, refused or reset connections: retryable;
 * - TLS certificate errors, every other result code (no such object under
 *   the base DN, insufficient access, object class violation, …) and other
 *   client errors (a filter ldapts cannot parse): non-retryable, with the
 *   result code in the message.
 */
import { Client, ResultCodeError } from 'ldapts';
import { ConnectorError } from './connector.ts';
import { Semaphore } from './semaphore.ts';

export interface LdapSessionOptions {
  /** Connector name, for error messages. */
  name: string;
  url: string;
  bindDn: string;
  password: string;
  /** Per operation and per connect. */
  timeoutMs: number;
  /** Connections in use at once. */
  concurrency: number;
}

/** LDAP result codes (RFC 4511 §4.1.9) the connector acts on. */
export const LDAP_RESULT = {
  operationsError: 1,
  timeLimitExceeded: 3,
  noSuchAttribute: 16,
  attributeOrValueExists: 20,
  noSuchObject: 32,
  invalidCredentials: 49,
  busy: 51,
  unavailable: 52,
  objectClassViolation: 65,
  other: 80,
} as const;

const RETRYABLE_RESULTS = new Set<number>([
  LDAP_RESULT.operationsError,
  LDAP_RESULT.timeLimitExceeded,
  LDAP_RESULT.busy,
  LDAP_RESULT.unavailable,
  LDAP_RESULT.other,
]);

/** Node's codes for a certificate the client refuses: a config problem, not a transient one. */
const TLS_CONFIG =
  /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_)/;

/**
 * ldapts' own messages for a connection that timed out, closed or never
 * opened (it throws plain Errors for these). Anything else without a result
 * code, such as a filter it cannot parse, will not pass by waiting.
 */
const TRANSIENT = /timed out|timeout|connection closed|socket|not established/i;

/** A failure with an LDAP result code (the server answered). */
export function resultCode(err: unknown): number | undefined {
  return err instanceof ResultCodeError ? err.code : undefined;
}

export class LdapSessions {
  private readonly idle: Client[] = [];
  private readonly semaphore: Semaphore;
  private closed = false;

  constructor(private readonly options: LdapSessionOptions) {
    if (!options.password) {
      // An empty password makes a simple bind anonymous (RFC 4513 §5.1.2).
      throw new ConnectorError(`${options.name}: empty bind password`, false);
    }
    this.semaphore = new Semaphore(options.concurrency);
  }

  /** Connections in use now (bounded by `concurrency`). */
  get inUse(): number {
    return this.semaphore.inUse;
  }

  /**
   * Runs `fn` with a bound connection. LDAP result errors that `fn` does not
   * handle itself, and every other failure, come out as ConnectorErrors
   * (classified as in the module comment); `what` names the step in them.
   */
  use<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    return this.semaphore.run(async () => {
      if (this.closed) throw new ConnectorError(`${this.options.name}: closed`, false);
      let client: Client | undefined;
      let keep = false;
      try {
        client = this.takeIdle() ?? (await this.open());
        const value = await fn(client);
        keep = true;
        return value;
      } catch (err) {
        const code = resultCode(err);
        // The server answered: the connection is fine unless it said it is going away.
        keep = code !== undefined && !RETRYABLE_RESULTS.has(code);
        throw ldapError(this.options.name, what, err);
      } finally {
        if (client) {
          if (keep && !this.closed && client.isBound) this.idle.push(client);
          else void client.unbind().catch(() => undefined);
        }
      }
    });
  }

  /** An idle connection still bound; ones the server closed meanwhile are dropped. */
  private takeIdle(): Client | undefined {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (c.isBound) return c;
      void c.unbind().catch(() => undefined);
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((c) => c.unbind().catch(() => undefined)));
  }

  private async open(): Promise<Client> {
    const { url, timeoutMs, bindDn, password } = this.options;
    const client = new Client({ url, timeout: timeoutMs, connectTimeout: timeoutMs, autoRebind: true });
    try {
      await client.bind(bindDn, password);
    } catch (err) {
      void client.unbind().catch(() => undefined);
      if (resultCode(err) === LDAP_RESULT.invalidCredentials) {
        throw new ConnectorError(
          `${this.options.name}: ${url} refused our credentials (bind as ${bindDn}: invalid credentials)`,
          false,
          LDAP_RESULT.invalidCredentials,
        );
      }
      throw ldapError(this.options.name, `bind as ${bindDn}`, err);
    }
    return client;
  }
}

/** One LDAP failure as a ConnectorError, classified as in the module comment; `what` names the step. */
export function ldapError(connector: string, what: string, err: unknown): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const prefix = `${connector}: ${what}`;
  const code = resultCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code !== undefined) {
    // The server's diagnostic text stays out of the message (which every
    // viewer reads in the audit); it rides along as `cause` for the log.
    const failure = new ConnectorError(
      `${prefix}: ${(err as Error).name} (LDAP result ${code})`,
      RETRYABLE_RESULTS.has(code),
      code,
    );
    failure.cause = err;
    return failure;
  }
  const sys = (err as { code?: unknown } | undefined)?.code;
  if (typeof sys === 'string' && TLS_CONFIG.test(sys)) {
    return new ConnectorError(`${prefix}: TLS: ${message} (${sys})`, false);
  }
  // Timeouts, refused and reset connections, a server going down mid-call.
  const transient = typeof sys === 'string' || TRANSIENT.test(message);
  return new ConnectorError(
    `${prefix} failed: ${typeof sys === 'string' ? `${sys} ` : ''}${message}`,
    transient,
  );
}
