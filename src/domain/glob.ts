/**
 * Glob patterns of the config (`protectedTargets`, `policy.cancelOnFreeze`,
 * `callbackAllowlist`): `*` matches any run of characters (including none and
 * including `:`, `/` and `.`); every other character matches itself. Regex
 * metacharacters in a pattern are escaped, so `account:@vip-(a|b)` is literal.
 */

const compiled = new Map<string, RegExp>();

/** The anchored regular expression of one glob (memoized: the gate calls this on every request). */
export function globToRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
      .join('[\\s\\S]*');
    re = new RegExp(`^${body}$`, 'u');
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

export function matchesGlob(pattern: string, value: string): boolean {
  return globToRegExp(pattern).test(value);
}

/** The first pattern that matches `value`, or undefined. */
export function firstMatch(patterns: readonly string[], value: string): string | undefined {
  return patterns.find((p) => matchesGlob(p, value));
}
