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

export function errorBody(code: ErrorCode | 'internal' | 'unavailable', message: string, issues?: Issue[]) {
  return { error: { code, message, ...(issues && issues.length > 0 ? { issues } : {}) } };
}
