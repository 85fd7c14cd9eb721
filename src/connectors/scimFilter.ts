/**
 * RFC 7644 §3.4.2.2 filters and PATCH value paths. A comparison value is a
 * JSON string, so JSON.stringify gives exactly the quoting the RFC asks for:
 * `"` and `\` escaped, control characters as \uXXXX. Values are never spliced
 * in raw, so a person id such as `a" or userName pr "` cannot widen a filter.
 */

/** `attr eq "value"` with the value quoted as a JSON string. */
export function eqFilter(attributePath: string, value: string): string {
  return `${attributePath} eq ${JSON.stringify(value)}`;
}

/** The PATCH path selecting one member of a group: `members[value eq "…"]`. */
export function memberPath(userId: string): string {
  return `members[${eqFilter('value', userId)}]`;
}

/** Which SCIM attribute path a `match.attribute` setting compares against. */
export function matchAttributePath(attribute: 'userName' | 'externalId' | 'emails'): string {
  return attribute === 'emails' ? 'emails.value' : attribute;
}
