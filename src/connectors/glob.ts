/**
 * Glob patterns on names (`privilegedGroups`): `*` is any run of characters,
 * `?` one character, everything else literal. Case-insensitive, because
 * identity providers treat group display names that way.
 */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'is');
}

/** A matcher that is true when `name` matches any of `patterns`. */
export function globMatcher(patterns: readonly string[]): (name: string) => boolean {
  const res = patterns.map(globToRegExp);
  return (name) => res.some((re) => re.test(name));
}
