/**
 * The one glob syntax of the config (`protectedTargets`, `policy.cancelOnFreeze`,
 * `callbackAllowlist`, a SCIM connector's `privilegedGroups`): `*` matches any
 * run of characters (including none, and including `:`, `/` and `.`), `?` one
 * character; every other character matches itself. Regex metacharacters in a
 * pattern are escaped, so `account:@vip-(a|b)` is literal.
 */

const compiled = new Map<string, RegExp>();

/**
 * The anchored regular expression of one glob (memoized: the gate calls this on
 * every request).
 * @param options.caseInsensitive for names that their systems compare that way
 *   (identity providers' group display names). Default false.
 */
export function globToRegExp(pattern: string, options: { caseInsensitive?: boolean } = {}): RegExp {
  const flags = options.caseInsensitive ? 'iu' : 'u';
  const key = `${flags}\u0000${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    const body = [...pattern]
      .map((ch) =>
        ch === '*' ? '[\\s\\S]*' : ch === '?' ? '[\\s\\S]' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'),
      )
      .join('');
    re = new RegExp(`^${body}$`, flags);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(key, re);
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

/** A predicate that is true when a name matches any of `patterns`. */
export function globMatcher(
  patterns: readonly string[],
  options: { caseInsensitive?: boolean } = {},
): (name: string) => boolean {
  const res = patterns.map((p) => globToRegExp(p, options));
  return (name) => res.some((re) => re.test(name));
}
