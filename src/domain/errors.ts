/**
 * Typed errors with stable codes. Every error a caller can see carries one of
 * the contract's codes; the HTTP layer maps codes to statuses in one place
 * (src/http/errors.ts) and the CLI prints the message.
 */
export type ErrorCode =
  | 'invalid_event'
  | 'invalid_request'
  | 'bad_signature'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'self_approval'
  | 'approver_departing'
  | 'conflict';

/** One problem with an input, named by its path (`person.timezone`). */
export interface Issue {
  path: string;
  message: string;
}

export class LastdayError extends Error {
  override readonly name = 'LastdayError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: Issue[],
    /** Fields added beside `code` and `message` in the error body (a 409's `reason`). */
    readonly extra?: Record<string, string>,
  ) {
    super(message);
  }
}

/** Formats issues as the contract's one line per problem: `path: message`. */
export function formatIssues(issues: readonly Issue[]): string[] {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
}
