/**
 * The in-call retry loop every remote connector shares (HTTP for SCIM and
 * webhooks, LDAP): a few tries of one call while it throws a retryable
 * ConnectorError, with exponential backoff and jitter in between.
 *
 * The loop is small on purpose (a few tries within one job run); past it the
 * error propagates and BullMQ retries the job with its capped backoff.
 */
import { ConnectorError } from './connector.ts';

export interface RetryPolicy {
  /** Tries within one call, first included. Default 3. */
  attempts: number;
  /** First backoff delay; doubles per try, with ±50 % jitter. Default 200 ms. */
  baseDelayMs: number;
  /** Cap on one backoff delay. Default 5 s. */
  maxDelayMs: number;
  /**
   * Longest server-requested delay (HTTP Retry-After) honoured by sleeping
   * in-call. A longer one ends the call with the retryable error so the job is
   * retried later instead of holding a worker slot. Default 30 s.
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
};

export interface RetrierOptions {
  retry?: Partial<RetryPolicy> | undefined;
  /** The delay a failed try asked for (HTTP 429 Retry-After); default none. */
  retryAfterMs?: (err: ConnectorError) => number | undefined;
  /** Injected for tests of the loop; default setTimeout and Math.random. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  random?: (() => number) | undefined;
}

export class Retrier {
  readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly retryAfterMs: (err: ConnectorError) => number | undefined;

  constructor(options: RetrierOptions = {}) {
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
    this.retryAfterMs = options.retryAfterMs ?? (() => undefined);
  }

  /**
   * Runs `attempt` up to `policy.attempts` times while it throws a retryable
   * ConnectorError, sleeping with exponential backoff and jitter (or the
   * server's requested delay) in between. Before each retry, `beforeRetry` may
   * report that the previous try took effect after all; its value is returned.
   */
  async run<T>(
    attempt: (n: number) => Promise<T>,
    beforeRetry?: () => Promise<{ done: true; value: T } | { done: false }>,
  ): Promise<T> {
    let last: unknown;
    for (let n = 1; n <= this.policy.attempts; n++) {
      if (n > 1 && beforeRetry) {
        const check = await beforeRetry();
        if (check.done) return check.value;
      }
      try {
        return await attempt(n);
      } catch (err) {
        if (!(err instanceof ConnectorError) || !err.retryable) throw err;
        last = err;
        if (n === this.policy.attempts) break;
        const retryAfter = this.retryAfterMs(err);
        if (retryAfter !== undefined && retryAfter > this.policy.maxRetryAfterMs) break;
        await this.sleep(Math.max(retryAfter ?? 0, this.backoff(n)));
      }
    }
    throw last;
  }

  /** Delay after try `n`: base·2^(n-1), capped, times a jitter factor in [0.5, 1.5). */
  backoff(n: number): number {
    const base = Math.min(this.policy.baseDelayMs * 2 ** (n - 1), this.policy.maxDelayMs);
    return Math.round(base * (0.5 + this.random()));
  }
}
