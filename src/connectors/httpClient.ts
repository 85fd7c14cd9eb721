/**
 * HTTP for connectors: one request with a timeout (fetch + AbortSignal.timeout),
 * classified into what the caller can act on, and a bounded in-call retry loop.
 *
 * Classification (shared by SCIM and webhooks):
 * - 2xx and non-retryable 4xx come back as a response for the caller to read;
 * - 429 and 5xx, timeouts and network errors throw a retryable ConnectorError
 *   (429 carries the server's Retry-After);
 * - 401/403 throw a non-retryable ConnectorError: waiting will not fix refused
 *   credentials, so the milestone alerts at once.
 *
 * The retry loop (src/connectors/retry.ts, shared with LDAP) is small on
 * purpose (a few tries within one job run); past it the error propagates and
 * BullMQ retries the job with its capped backoff.
 * Writes pass a `beforeRetry` check so a change the server applied before
 * answering 5xx or timing out is not applied a second time.
 */
import { ConnectorError } from './connector.ts';
import { Retrier, type RetryPolicy } from './retry.ts';
import { Semaphore } from './semaphore.ts';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
}

export { DEFAULT_RETRY, type RetryPolicy } from './retry.ts';

export interface HttpClientOptions {
  /** Connector name, for error messages. */
  name: string;
  timeoutMs: number;
  /** Requests in flight at once to this system. */
  concurrency: number;
  retry?: Partial<RetryPolicy>;
  /** Injected for tests of the retry loop; default setTimeout and Math.random. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A retryable failure, with the delay the server asked for (429 Retry-After). */
export class RetryableHttpError extends ConnectorError {
  constructor(
    message: string,
    status: number | undefined,
    readonly retryAfterMs?: number,
  ) {
    super(message, true, status);
  }
}

export class HttpClient {
  readonly retry: RetryPolicy;
  private readonly semaphore: Semaphore;
  private readonly retrier: Retrier;

  constructor(private readonly options: HttpClientOptions) {
    this.retrier = new Retrier({
      retry: options.retry,
      retryAfterMs: (err) => (err instanceof RetryableHttpError ? err.retryAfterMs : undefined),
      sleep: options.sleep,
      random: options.random,
    });
    this.retry = this.retrier.policy;
    this.semaphore = new Semaphore(options.concurrency);
  }

  /** Requests in flight now (bounded by `concurrency`). */
  get inFlight(): number {
    return this.semaphore.inUse;
  }

  /**
   * One request, classified. Resolves with 2xx and with 4xx other than
   * 401/403/408/429; throws ConnectorError otherwise. Never logs or echoes
   * request headers (they carry the credentials).
   */
  send(req: HttpRequest): Promise<HttpResponse> {
    return this.semaphore.run(async () => {
      const { name, timeoutMs } = this.options;
      const what = `${name}: ${req.method} ${redactQuery(req.url)}`;
      let res: Response;
      let text: string;
      try {
        res = await fetch(req.url, {
          method: req.method,
          headers: req.headers ?? {},
          ...(req.body !== undefined ? { body: req.body } : {}),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        text = await res.text();
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError' || e.name === 'AbortError')
          throw new RetryableHttpError(`${what} timed out after ${timeoutMs} ms`, undefined);
        const cause = (e.cause as Error | undefined)?.message;
        throw new RetryableHttpError(`${what} failed: ${cause ?? e.message}`, undefined);
      }
      const response: HttpResponse = {
        status: res.status,
        headers: res.headers,
        text,
        json: parseJson(text),
      };
      const detail = errorDetail(response);
      if (res.status === 401 || res.status === 403) {
        throw new ConnectorError(
          `${what} refused our credentials (${res.status}${detail ? `: ${detail}` : ''})`,
          false,
          res.status,
        );
      }
      if (res.status === 429) {
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
        throw new RetryableHttpError(
          `${what} rate limited (429${retryAfterMs !== undefined ? `, retry after ${retryAfterMs} ms` : ''})`,
          429,
          retryAfterMs,
        );
      }
      if (res.status >= 500 || res.status === 408) {
        throw new RetryableHttpError(
          `${what} answered ${res.status}${detail ? `: ${detail}` : ''}`,
          res.status,
        );
      }
      return response;
    });
  }

  /**
   * Runs `attempt` up to `retry.attempts` times while it throws a retryable
   * ConnectorError (see Retrier.run); a 429's Retry-After is honoured up to
   * `retry.maxRetryAfterMs`.
   */
  withRetries<T>(
    attempt: (n: number) => Promise<T>,
    beforeRetry?: () => Promise<{ done: true; value: T } | { done: false }>,
  ): Promise<T> {
    return this.retrier.run(attempt, beforeRetry);
  }

  /** Delay after try `n` (see Retrier.backoff). */
  backoff(n: number): number {
    return this.retrier.backoff(n);
  }
}

/** Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short, safe description of an error body: SCIM `detail`/`scimType`, else a snippet. */
export function errorDetail(res: HttpResponse): string {
  const body = res.json as { detail?: unknown; scimType?: unknown; message?: unknown } | undefined;
  if (body && typeof body === 'object') {
    const parts = [body.scimType, body.detail ?? body.message].filter((p) => typeof p === 'string');
    if (parts.length > 0) return parts.join(': ').slice(0, 300);
  }
  return res.text.slice(0, 200);
}

/** Filters name people; keep them out of error messages that reach logs and audit. */
function redactQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}
