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
 *
 * Error messages carry the method, the URL without credentials or query
 * (filters name people), the status and its standard reason phrase: never the
 * response body, which a server may fill with anything (an echoed token, a
 * stack trace). The body's gist goes to `ConnectorError.detail` for logs.
 */
import { STATUS_CODES } from 'node:http';
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
  /** Largest answer body read (bytes; default MAX_BODY_BYTES). */
  maxBodyBytes?: number;
}

/**
 * Largest answer body a connector reads: far above any answer lastday asks
 * for (SCIM lists ask for `displayName` only; webhook answers are a grant
 * list), and a bound on what a broken or hostile peer can make lastday hold
 * in memory.
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * A connector's client (SCIM, webhook): name, timeout and concurrency from its
 * config, the retry policy from its options (tests shorten it; default DEFAULT_RETRY).
 */
export function connectorHttpClient(
  config: Pick<HttpClientOptions, 'name' | 'timeoutMs' | 'concurrency'>,
  retry: Partial<RetryPolicy> | undefined,
): HttpClient {
  return new HttpClient({
    name: config.name,
    timeoutMs: config.timeoutMs,
    concurrency: config.concurrency,
    ...(retry ? { retry } : {}),
  });
}

/** A retryable failure, with the delay the server asked for (429 Retry-After). */
export class RetryableHttpError extends ConnectorError {
  constructor(
    message: string,
    status: number | undefined,
    readonly retryAfterMs?: number,
    detail?: string,
  ) {
    super(message, true, status, detail);
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
      const what = `${name}: ${req.method} ${safeUrl(req.url)}`;
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
        text = await bodyText(res, this.options.maxBodyBytes ?? MAX_BODY_BYTES);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          // Not retried in-call: the same peer answers the same way. The job's
          // own backoff retries it, and it alerts at once (non-retryable).
          throw new ConnectorError(
            `${what} answered ${statusLine(res!.status)} with a body over ${err.limit} bytes; not read`,
            false,
            res!.status,
          );
        }
        const e = err as Error;
        if (e.name === 'TimeoutError' || e.name === 'AbortError')
          throw new RetryableHttpError(`${what} timed out after ${timeoutMs} ms`, undefined);
        throw new RetryableHttpError(`${what} failed: ${networkReason(e)}`, undefined);
      }
      const response: HttpResponse = {
        status: res.status,
        headers: res.headers,
        text,
        json: parseJson(text),
      };
      const detail = () => responseDetail(response, req.headers);
      if (res.status === 401 || res.status === 403) {
        throw new ConnectorError(
          `${what} refused our credentials (${statusLine(res.status)})`,
          false,
          res.status,
          detail(),
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
          `${what} answered ${statusLine(res.status)}`,
          res.status,
          undefined,
          detail(),
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

/** `503 Service Unavailable`: the status and its standard reason phrase (not the server's). */
export function statusLine(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `${status} ${reason}` : String(status);
}

/** The SCIM error types of RFC 7644 §3.12: a fixed vocabulary, safe to show anyone. */
const SCIM_TYPES = new Set([
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
]);

/** The answer's SCIM `scimType` when it is one of RFC 7644's keywords, else undefined. */
export function scimErrorType(res: HttpResponse): string | undefined {
  const t = (res.json as { scimType?: unknown } | undefined)?.scimType;
  return typeof t === 'string' && SCIM_TYPES.has(t) ? t : undefined;
}

/**
 * The failure of an answer the caller will not accept, for error messages
 * that reach the audit: the status line and, for SCIM, the `scimType`
 * keyword. No body text.
 */
export function errorSummary(res: HttpResponse): string {
  const type = scimErrorType(res);
  return type ? `${statusLine(res.status)} (${type})` : statusLine(res.status);
}

const DETAIL_MAX = 160;

/**
 * What the server said about a failure, for the operator's log: SCIM
 * `detail`/`message`, else the start of the body; one line, bounded, with
 * the credentials we sent blanked out in case the server echoes them.
 */
export function responseDetail(res: HttpResponse, sent: Record<string, string> = {}): string | undefined {
  const body = res.json as { detail?: unknown; message?: unknown } | undefined;
  const said = body && typeof body === 'object' ? (body.detail ?? body.message) : undefined;
  let text = typeof said === 'string' ? said : res.text;
  for (const [header, value] of Object.entries(sent)) {
    if (!/^(authorization|webhook-signature)$/i.test(header) || !value) continue;
    for (const part of [value, ...value.split(/[\s,]+/).filter((p) => p.length >= 8)])
      text = text.split(part).join('[redacted]');
  }
  // eslint-disable-next-line no-control-regex -- control characters are what this strips
  text = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (!text) return undefined;
  return text.length > DETAIL_MAX ? `${text.slice(0, DETAIL_MAX)}…` : text;
}

/** A network failure's code (ECONNREFUSED, ENOTFOUND, …), not its free-text message. */
function networkReason(err: Error): string {
  const cause = err.cause as { code?: unknown } | undefined;
  const code = cause?.code ?? (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? code : 'network error';
}

/**
 * The URL as errors may show it: no user:password, no query (filters name
 * people), no fragment.
 */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid url)';
  }
}

/** An answer body over the limit (bodyText). */
class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`answer body over ${limit} bytes`);
  }
}

/**
 * The answer's body as text, as `Response.text()` gives it (UTF-8, a BOM
 * dropped), read no further than `limit` bytes: a declared or streamed
 * length over it cancels the read and throws BodyTooLarge.
 */
async function bodyText(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new BodyTooLarge(limit);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
