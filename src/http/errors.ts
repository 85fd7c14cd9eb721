/** Maps error codes to HTTP statuses, in one place, and shapes error bodies. */
import type { ErrorCode, Issue } from '../domain/errors.ts';

export const STATUS_OF: Record<ErrorCode, number> = {
  invalid_event: 400,
  invalid_request: 400,
  bad_signature: 401,
  unauthorized: 401,
  forbidden: 403,
  self_approval: 403,
  approver_departing: 403,
  not_found: 404,
  conflict: 409,
};

/**
 * `{"error":{"code","message","issues"?}}`; `extra` adds fields beside them
 * (an invalid event's `issueCount` when only the first issues are listed).
 */
export function errorBody(
  code: ErrorCode | 'internal' | 'unavailable',
  message: string,
  issues?: Issue[],
  extra: Record<string, unknown> = {},
) {
  return { error: { code, message, ...(issues && issues.length > 0 ? { issues } : {}), ...extra } };
}
