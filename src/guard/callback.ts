/**
 * The call lastday makes to a managed action's callback: `POST callbackUrl`
 * with `{"actionId","kind","target","payload"}`, signed per Standard Webhooks
 * with LASTDAY_ACTION_SECRET. The `webhook-id` is the action id (made
 * header-safe), the same on every retry, so a receiver can drop a repeat.
 */
import { Webhook } from 'standardwebhooks';
import type { ActionRecord } from '../domain/action.ts';

export interface CallbackAnswer {
  status: number;
  /** First bytes of the answer, for the audit. */
  body: string;
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
  const text = await response.text().catch(() => '');
  return { status: response.status, body: text.slice(0, 500) };
}

/** Answers worth retrying: server errors, timeouts at the far end, rate limits. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
