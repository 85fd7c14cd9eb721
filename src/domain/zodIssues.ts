/** Turns zod issues into the project's `{path, message}` issues. */
import type { z } from 'zod';
import type { Issue } from './errors.ts';

/** Parse options for inputs whose issues go through toIssues: keep the input to tell "missing" from "wrong". */
export const PARSE = { reportInput: true } as const;

export function toIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: describe(issue),
  }));
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      // zod says "Invalid input: expected number, received string"; the contract's
      // example is the shorter "expected a number". Needs `reportInput` (see PARSE).
      return issue.input === undefined ? 'required' : `expected ${article(issue.expected)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      return issue.message;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
