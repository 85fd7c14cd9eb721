/**
 * A small typed client of lastday's HTTP API (contract v1.1 section 1): the CLI
 * verbs that read or decide go through it, the way gh, kubectl and the temporal
 * CLI talk to their servers. Who acts is decided by the server from the bearer
 * token (its `personId`), never by a flag.
 *
 * fetch only (no dependencies, so `--help` stays fast); every request has a
 * timeout; redirects are not followed (a bearer token is never replayed to
 * another address); the token never appears in an error message.
 */
import type { EvidenceReport } from '../domain/evidence.ts';
import type { ActionView } from '../domain/action.ts';
import type { Issue } from '../domain/errors.ts';
import type { personView } from '../domain/person.ts';
import type { AuditEntry, AuditStore } from '../store/audit.ts';
import type { RejectedEvent } from '../store/events.ts';

/** The contract's default address of the API. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** Long enough for an evidence page over a long audit trail; short enough to notice a hung server. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export type PersonView = ReturnType<typeof personView>;
export type AuditVerify = Awaited<ReturnType<AuditStore['verify']>>;
export interface Offboardings {
  from: string | null;
  to: string | null;
  count: number;
  offboardings: PersonView[];
}
/** The response header of GET /v1/audit (no filter) that carries the cursor of the next page. */
export const NEXT_AFTER_HEADER = 'lastday-next-after';
export interface AuditPage {
  /** `{entries, count}` exactly as the API answered. */
  body: { entries: AuditEntry[]; count: number };
  /** `lastday-next-after`: what to pass as `after` for the next page (absent with a person or action filter). */
  next?: string;
}
export interface HoldsPage {
  holds: ActionView[];
  count: number;
  total: number;
}

/** The API answered with an error (`{"error":{"code","message","issues"?}}`). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }

  /** The error as the API sent it, for `--json` output. */
  get body() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.issues.length ? { issues: this.issues } : {}),
      },
    };
  }
}

/** No usable answer from the URL: nothing listening, a timeout, or something that is not lastday's API. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

/** LASTDAY_URL or LASTDAY_TOKEN cannot be used as given; nothing was sent. */
export class ApiSetupError extends Error {
  override readonly name = 'ApiSetupError';
}

export interface ApiClientOptions {
  /** `http(s)://host:port`, optionally with a path prefix (behind a reverse proxy). */
  url: string;
  token?: string | undefined;
  timeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

export class ApiClient {
  readonly url: string;
  readonly hasToken: boolean;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.url = normaliseUrl(options.url);
    const token = options.token?.trim();
    // Checked here so fetch never builds an error message that quotes the header value.
    if (token && !/^[\x21-\x7e]+$/.test(token)) {
      throw new ApiSetupError(
        'LASTDAY_TOKEN holds characters that cannot be sent in an HTTP header (spaces or control characters)',
      );
    }
    this.hasToken = Boolean(token);
    this.#authorization = token ? `Bearer ${token}` : undefined;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  person(personId: string): Promise<PersonView> {
    return this.json('GET', `/v1/people/${segment(personId)}`);
  }

  offboardings(query: { from?: string; to?: string; limit?: number }): Promise<Offboardings> {
    return this.json('GET', '/v1/offboardings', { query });
  }

  holds(query: { limit?: number; offset?: number } = {}): Promise<HoldsPage> {
    return this.json('GET', '/v1/holds', { query });
  }

  action(actionId: string): Promise<ActionView> {
    return this.json('GET', `/v1/actions/${segment(actionId)}`);
  }

  /** Approves as the token's person; the server refuses `self_approval` and `approver_departing`. */
  approve(actionId: string): Promise<ActionView> {
    return this.json('POST', `/v1/actions/${segment(actionId)}/approve`);
  }

  /**
   * Requests a reinstatement of a revoked person as the token's person
   * (POST /v1/people/:id/reinstatement): the held action, or the open one.
   */
  reinstate(personId: string, reason: string): Promise<ActionView & { personId: string; created: boolean }> {
    return this.json('POST', `/v1/people/${segment(personId)}/reinstatement`, { body: { reason } });
  }

  cancel(actionId: string, reason?: string): Promise<ActionView> {
    return this.json('POST', `/v1/actions/${segment(actionId)}/cancel`, {
      body: reason !== undefined ? { reason } : {},
    });
  }

  /** One page of audit entries: the body as the API sent it, and the cursor of the next page when the API gave one. */
  async audit(query: {
    personId?: string;
    actionId?: string;
    /** A seq, or with partitions and no filter the cursor of the previous page. */
    after?: number | string;
    limit?: number;
  }): Promise<AuditPage> {
    const res = await this.send('GET', '/v1/audit', { query, accept: 'application/json' });
    const next = res.headers.get(NEXT_AFTER_HEADER) ?? undefined;
    const body = await this.parse<{ entries: AuditEntry[]; count: number }>(res, '/v1/audit');
    return { body, ...(next !== undefined ? { next } : {}) };
  }

  verifyAudit(): Promise<AuditVerify> {
    return this.json('GET', '/v1/audit/verify');
  }

  evidence(personId: string): Promise<EvidenceReport> {
    return this.json('GET', `/v1/people/${segment(personId)}/evidence`);
  }

  /** The same report as Markdown, rendered by the server. */
  async evidenceMarkdown(personId: string): Promise<string> {
    const res = await this.send('GET', `/v1/people/${segment(personId)}/evidence`, {
      query: { format: 'md' },
      accept: 'text/markdown',
    });
    return res.text();
  }

  rejected(query: { limit?: number } = {}): Promise<{ rejected: RejectedEvent[]; count: number }> {
    return this.json('GET', '/v1/hr-events/rejected', { query });
  }

  /**
   * The audit chain as NDJSON (GET /v1/audit/export), chunk by chunk. A long
   * chain takes a while, so there is no overall timeout: the export fails when
   * nothing arrives for the usual timeout, or when the server cuts it short.
   */
  async *auditExport(): AsyncGenerator<Uint8Array> {
    const controller = new AbortController();
    const idle = () => {
      const timer = setTimeout(
        () => controller.abort(new DOMException('no data', 'TimeoutError')),
        this.#timeoutMs,
      );
      timer.unref?.();
      return timer;
    };
    let timer = idle();
    try {
      const res = await this.send('GET', '/v1/audit/export', {
        accept: 'application/x-ndjson',
        signal: controller.signal,
      });
      if (!(res.headers.get('content-type') ?? '').includes('ndjson') || !res.body) {
        await res.body?.cancel();
        throw this.notLastday(res, '/v1/audit/export');
      }
      const reader = res.body.getReader();
      for (;;) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (err) {
          const e = err as { name?: string };
          throw new ApiUnreachableError(
            this.url,
            e.name === 'TimeoutError' || e.name === 'AbortError'
              ? `the audit export from ${this.url} stalled: nothing for ${Math.round(this.#timeoutMs / 1000)} s`
              : `the audit export from ${this.url} was cut short (${(err as Error).message})`,
          );
        }
        if (next.done) return;
        clearTimeout(timer);
        timer = idle();
        yield next.value;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async json<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}) {
    const res = await this.send(method, path, { ...options, accept: 'application/json' });
    return this.parse<T>(res, path);
  }

  private async parse<T>(res: Response, path: string): Promise<T> {
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.notLastday(res, path);
    }
  }

  /** One request; any answer that is not 2xx becomes an ApiError or ApiUnreachableError. */
  private async send(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; accept: string; signal?: AbortSignal },
  ): Promise<Response> {
    const target = new URL(`${this.url}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') target.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: options.accept };
    if (this.#authorization) headers.authorization = this.#authorization;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        redirect: 'manual',
        signal: options.signal ?? AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw this.unreachable(err);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new ApiUnreachableError(
        this.url,
        `${this.url} redirects ${method} ${path} (${res.status}) to ${res.headers.get('location') ?? 'elsewhere'}; ` +
          'set LASTDAY_URL to the address that serves the API (the token is not sent on)',
      );
    }
    if (res.ok) return res;
    const text = await res.text();
    let error: { code?: unknown; message?: unknown; issues?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      // Not our error shape: handled below.
    }
    if (typeof error?.code !== 'string') throw this.notLastday(res, path);
    throw new ApiError(
      res.status,
      error.code,
      typeof error.message === 'string' ? error.message : error.code,
      Array.isArray(error.issues) ? (error.issues as Issue[]) : [],
    );
  }

  private unreachable(err: unknown): ApiUnreachableError {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return new ApiUnreachableError(
        this.url,
        `no answer from ${this.url} within ${this.#timeoutMs < 1000 ? `${this.#timeoutMs} ms` : `${Math.round(this.#timeoutMs / 1000)} s`}; ` +
          'is LASTDAY_URL right and lastday healthy?',
      );
    }
    const why = e.cause?.code ?? e.cause?.message ?? e.message ?? 'connection failed';
    return new ApiUnreachableError(
      this.url,
      `no lastday API at ${this.url} (${why}). Start it with \`npm start\` (or \`npx lastday start\`) ` +
        'in the checkout, or set LASTDAY_URL to where it runs',
    );
  }

  private notLastday(res: Response, path: string): ApiUnreachableError {
    const type = res.headers.get('content-type') ?? 'no content type';
    return new ApiUnreachableError(
      this.url,
      `${this.url} answered ${path} with HTTP ${res.status} (${type}), not lastday's API; is LASTDAY_URL right?`,
    );
  }
}

/** The client for the environment of a CLI run: LASTDAY_URL (default http://127.0.0.1:8080), LASTDAY_TOKEN. */
export function clientFromEnv(env: Readonly<Record<string, string | undefined>>): ApiClient {
  return new ApiClient({ url: env.LASTDAY_URL || DEFAULT_URL, token: env.LASTDAY_TOKEN });
}

/**
 * An id as one path segment. `.` and `..` (and their percent-encodings) are
 * resolved away by every URL parser, so they would reach another route; refuse them.
 */
function segment(id: string): string {
  if (id === '.' || id === '..') {
    throw new ApiSetupError(`the id ${JSON.stringify(id)} cannot be sent as a URL path segment`);
  }
  return encodeURIComponent(id);
}

function normaliseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value is not echoed: a token pasted into the wrong variable must not reach a terminal log.
    throw new ApiSetupError('LASTDAY_URL: not a URL; expected http(s)://host:port');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiSetupError(`LASTDAY_URL: expected an http:// or https:// URL, got ${url.protocol}`);
  }
  if (url.username || url.password) {
    // Credentials go in LASTDAY_TOKEN; fetch refuses URLs that carry them anyway.
    throw new ApiSetupError('LASTDAY_URL: put no credentials in the URL; the token goes in LASTDAY_TOKEN');
  }
  if (url.search || url.hash) {
    throw new ApiSetupError('LASTDAY_URL: expected no query or fragment');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
