/**
 * LDAP search filters for the LDAP connector: the configured `userFilter`
 * with the person's id or email put in, and the group-membership filter per
 * directory flavor.
 *
 * Every value put into a filter is escaped per RFC 4515 §3 (`*` `(` `)` `\`
 * and NUL as `\2a` `\28` `\29` `\5c` `\00`), so a person id such as `*` or
 * `x)(uid=*` can only ever match an entry whose attribute holds exactly that
 * text, never widen the search to someone else.
 */
import { Filter, FilterParser } from 'ldapts';
import { ConnectorError, type PersonRef } from './connector.ts';

export type LdapFlavor = 'openldap' | 'ad';

const PLACEHOLDER = /\{(id|email)\}/g;

/** RFC 4515 escaping of one assertion value (ldapts' implementation). */
export function escapeFilterValue(value: string): string {
  return Filter.escape(value);
}

/**
 * `template` with `{id}` and `{email}` replaced by the person's escaped
 * values, in one pass (a value containing `{email}` is not substituted again).
 * A placeholder the person has no value for is a non-retryable error.
 */
export function userFilter(connector: string, template: string, person: PersonRef): string {
  return template.replace(PLACEHOLDER, (_, field: 'id' | 'email') => {
    const value = field === 'id' ? person.id : person.email;
    if (!value) {
      throw new ConnectorError(
        `${connector}: person ${person.id} has no ${field} for userFilter ${template}`,
        false,
      );
    }
    return escapeFilterValue(value);
  });
}

/**
 * Why `template` cannot serve as a userFilter, or undefined when it can: it
 * must name `{id}` or `{email}` and parse as an RFC 4515 filter once they are
 * filled in.
 */
export function userFilterProblem(template: string): string | undefined {
  if (!/\{(id|email)\}/.test(template)) return 'expected {id} or {email} in the filter, e.g. (uid={id})';
  // Parentheses in values are escaped (\28 \29), so every bare one is syntax;
  // counted here because ldapts' parser forgives a missing closing one.
  let depth = 0;
  for (const ch of template) {
    depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
    if (depth < 0) break;
  }
  if (depth !== 0) return 'unbalanced parentheses';
  try {
    FilterParser.parseString(template.replace(PLACEHOLDER, 'x'));
    return undefined;
  } catch (err) {
    return `not an LDAP filter (RFC 4515): ${(err as Error).message}`;
  }
}

/**
 * Groups that list `userDn` as a member: `groupOfNames` (`member`) and
 * `groupOfUniqueNames` (`uniqueMember`) on OpenLDAP, `group` (`member`) on
 * Active Directory. The DN is matched by the server's distinguishedNameMatch,
 * so spelling differences (case, escapes) do not matter.
 */
export function membershipFilter(flavor: LdapFlavor, userDn: string): string {
  const dn = escapeFilterValue(userDn);
  if (flavor === 'ad') return `(&(objectClass=group)(member=${dn}))`;
  return `(|(&(objectClass=groupOfNames)(member=${dn}))(&(objectClass=groupOfUniqueNames)(uniqueMember=${dn})))`;
}

/** The attribute that holds a group's members, from its object classes. */
export function memberAttribute(flavor: LdapFlavor, objectClasses: readonly string[]): string {
  if (flavor === 'openldap' && objectClasses.some((c) => c.toLowerCase() === 'groupofuniquenames'))
    return 'uniqueMember';
  return 'member';
}
