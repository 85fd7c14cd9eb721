/** Turns zod issues into the project's `{path, message}` issues. */
import type { z } from 'zod';
import type { Issue } from './errors.ts';

/**
 * @param input what was parsed; lets a missing field read `required` rather
 *   than `expected a string` (zod 4 leaves the input off its issues).
 */
export function toIssues(error: z.ZodError, input?: unknown): Issue[] {
  return error.issues.flatMap((issue) => {
    // One problem per unknown field, named by its own path (`policy.typo`), so
    // every line of a config error starts with the field it is about.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...issue.path, key].map(String).join('.'),
        message: `unknown field "${key}"`,
      }));
    }
    return [{ path: issue.path.map(String).join('.'), message: describe(issue, input) }];
  });
}

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      // zod says "Invalid input: expected number, received string"; the contract's
      // example is the shorter "expected a number".
      return isMissing(issue, input) ? 'required' : `expected ${article(issue.expected)}`;
    case 'invalid_value':
      // An enum or literal that is absent is missing, not a wrong choice.
      return input !== undefined && valueAt(input, issue.path) === undefined ? 'required' : issue.message;
    default:
      return issue.message;
  }
}

/**
 * Whether the value at the issue's path was absent. Looked up in the input when
 * the caller gave it; otherwise zod's default message still says what it
 * received (a schema's custom message hides that, hence the input).
 */
function isMissing(issue: z.core.$ZodIssueInvalidType, input: unknown): boolean {
  if ('input' in issue && issue.input !== undefined) return false;
  if (input !== undefined) return valueAt(input, issue.path) === undefined;
  return /received undefined$/.test(issue.message);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
