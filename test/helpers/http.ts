/** Small HTTP helpers for tests that drive a running lastday over its API. */
import { signedHeaders } from './lastday.ts';

export interface ApiResponse {
  status: number;
  // Response bodies are JSON of many shapes; tests assert on them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** A JSON request against `baseUrl`; the body parsed when there is one. */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** POSTs an HR event to /v1/hr-events, signed per Standard Webhooks. */
export async function postEvent(
  baseUrl: string,
  event: unknown,
  options: Parameters<typeof signedHeaders>[1] & { headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const body = JSON.stringify(event);
  const { headers: override, ...sign } = options;
  const res = await fetch(`${baseUrl}/v1/hr-events`, {
    method: 'POST',
    headers: { ...signedHeaders(body, sign), ...override },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
