/**
 * The call lastday makes to a managed action's callback: `POST callbackUrl`
 * with `{"actionId","kind","target","payload"}`, signed per Standard Webhooks
 * with LASTDAY_ACTION_SECRET. The `webhook-id` is the action id (made
 * header-safe), the same on every retry, so a receiver can drop a repeat.
 *
 * What comes back is reduced to its status and that status's standard reason
 * phrase before anything is recorded. The body is never read into the audit:
 * a `system` token chooses the URL, and every viewer reads the audit, so
 * keeping response bytes would let the token holder read any URL lastday can
 * reach (cloud metadata, internal admin pages) through the audit.
 */
import { STATUS_CODES } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { ActionRecord } from '../domain/action.ts';

export interface CallbackAnswer {
  status: number;
  /** The status's standard reason phrase (`Forbidden`), not the server's own text. */
  reason: string;
}

/** The `webhook-id` for an action: its id when it is a header-safe token, else percent-encoded. */
export function webhookIdOf(actionId: string): string {
  return /^[\x21-\x7e]{1,200}$/.test(actionId) ? actionId : encodeURIComponent(actionId);
}

export function callbackBody(action: Pick<ActionRecord, 'actionId' | 'kind' | 'target' | 'payload'>): string {
  return JSON.stringify({
    actionId: action.actionId,
    kind: action.kind,
    target: action.target,
    payload: action.payload ?? null,
  });
}

export async function callCallback(
  action: ActionRecord,
  secret: string,
  options: { timeoutMs: number; now: () => Date },
): Promise<CallbackAnswer> {
  const body = callbackBody(action);
  const id = webhookIdOf(action.actionId);
  const at = options.now();
  const signature = new Webhook(secret).sign(id, at, body);
  const response = await fetch(action.callbackUrl!, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'lastday',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  // Released unread (see the module comment).
  await response.body?.cancel().catch(() => undefined);
  return { status: response.status, reason: STATUS_CODES[response.status] ?? 'Unknown Status' };
}

/** The callback URL as the audit may show it: origin and path, no credentials, query or fragment. */
export function auditableUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * A failed call (no answer) as a fixed category with, for network errors, the
 * system error code: `timeout`, `network error (ECONNREFUSED)`, `request
 * failed`. The free text of the error can carry the URL.
 */
export function callFailureReason(err: unknown): string {
  if (isTimeout(err)) return 'timeout';
  const code = causeOf(err)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)
    ? `network error (${code})`
    : 'request failed';
}

/**
 * Connection-phase failures: no byte of the request can have reached the far
 * side (refused, no such host, no route, the TCP connect timing out, a TLS
 * handshake refused), so calling again cannot make it act twice. Anything else
 * without an answer (our timeout, a connection reset or closed after the
 * request went out) leaves the outcome unknown.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TLS_HANDSHAKE_CODE =
  /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/;

/** Whether a failed call certainly never reached the far side (see NOT_SENT_CODES). */
export function wasNotSent(err: unknown): boolean {
  if (isTimeout(err)) return false;
  const cause = causeOf(err);
  // Happy eyeballs: an AggregateError of one failure per address, each must be connect-phase.
  const codes = cause?.errors?.length ? cause.errors.map((x) => x?.code) : [cause?.code];
  return codes.every(
    (code) => typeof code === 'string' && (NOT_SENT_CODES.has(code) || TLS_HANDSHAKE_CODE.test(code)),
  );
}

/** Our own time limit (AbortSignal.timeout) ended the call. */
function isTimeout(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** What fetch's `TypeError('fetch failed')` carries: the system error, or an AggregateError of one per address. */
function causeOf(err: unknown): { code?: unknown; errors?: { code?: unknown }[] } | undefined {
  return (err as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)?.cause;
}

/** Answers worth retrying: server errors, timeouts at the far end, rate limits. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
