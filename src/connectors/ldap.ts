/**
 * LDAP / Active Directory connector (contract v1.1 §6, `"type": "ldap"`).
 *
 * A person is the one entry under `baseDn` that `userFilter` finds (`{id}` and
 * `{email}` filled in, RFC 4515-escaped). Their grants are their group
 * memberships under `groupBaseDn`, found by membership: groups whose
 * `member` (groupOfNames; AD `group`) or `uniqueMember` (groupOfUniqueNames)
 * holds the user's DN. Grant id = group DN, role = group `cn`, privileged when
 * the `cn` matches a `privilegedGroups` glob (case-insensitive, as directories
 * compare `cn`).
 *
 * Effects, each safe to repeat:
 * - `removeGrants` deletes the user's DN from each group still holding it
 *   (noSuchAttribute: already gone; noSuchObject: group deleted);
 * - `restoreGrants` adds it back where missing (attributeOrValueExists: there);
 * - `disable` disables the account only (src/connectors/ldapAccount.ts: AD
 *   `userAccountControl` bit 2, OpenLDAP ppolicy `pwdAccountLockedTime`). It
 *   reads no groups, so nothing about groups can keep an account enabled;
 * - `enable` undoes exactly that.
 *
 * Every call runs on a bound pooled connection (src/connectors/ldapSession.ts)
 * with a per-operation timeout and a few in-call retries with backoff for
 * transient failures (src/connectors/retry.ts).
 */
import type { Logger } from 'pino';
import { Attribute, Change, type Client, type Entry } from 'ldapts';
import { globMatcher } from '../domain/glob.ts';
import type { AccessState, Connector, Grant, PersonRef } from './connector.ts';
import { ConnectorError } from './connector.ts';
import { accountAttributes, isActive, setAccountEnabled, values } from './ldapAccount.ts';
import { type LdapFlavor, memberAttribute, membershipFilter, userFilter } from './ldapFilter.ts';
import { LDAP_RESULT, ldapError, LdapSessions, resultCode } from './ldapSession.ts';
import { Retrier, type RetryPolicy } from './retry.ts';
import { allSettledOrThrow } from './settled.ts';

/** Page size of group searches (below OpenLDAP's and AD's default size limits). */
const PAGE = 500;

export interface LdapConnectorConfig {
  name: string;
  /** `ldap://host:389` or `ldaps://host:636`. */
  url: string;
  bindDn: string;
  baseDn: string;
  /** An RFC 4515 filter with `{id}` and/or `{email}`, e.g. `(uid={id})`. */
  userFilter: string;
  groupBaseDn: string;
  privilegedGroups: string[];
  flavor: LdapFlavor;
  timeoutMs: number;
  concurrency: number;
}

export interface LdapConnectorOptions {
  /** The bind password (read from `passwordEnv` by the registry). */
  password: string;
  log: Logger;
  retry?: Partial<RetryPolicy>;
}

interface Membership {
  dn: string;
  cn: string;
  /** `member` or `uniqueMember`. */
  attribute: string;
}

export class LdapConnector implements Connector {
  readonly type = 'ldap';
  readonly name: string;
  readonly sessions: LdapSessions;
  private readonly retrier: Retrier;
  private readonly isPrivileged: (cn: string) => boolean;

  constructor(
    private readonly config: LdapConnectorConfig,
    private readonly options: LdapConnectorOptions,
  ) {
    this.name = config.name;
    this.isPrivileged = globMatcher(config.privilegedGroups, { caseInsensitive: true });
    this.retrier = new Retrier({ retry: options.retry });
    this.sessions = new LdapSessions({
      name: config.name,
      url: config.url,
      bindDn: config.bindDn,
      password: options.password,
      timeoutMs: config.timeoutMs,
      concurrency: config.concurrency,
    });
  }

  read(person: PersonRef): Promise<AccessState> {
    return this.run('read', async (client) => {
      const user = await this.findUser(client, person);
      if (!user) return { exists: false, active: false, grants: [] };
      const groups = await this.groupsOf(client, user.dn);
      return {
        exists: true,
        active: isActive(this.config.flavor, user),
        grants: groups.map((g) => ({
          id: g.dn,
          system: this.name,
          role: g.cn,
          privileged: this.isPrivileged(g.cn),
        })),
      };
    });
  }

  async removeGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    if (grants.length === 0) return;
    await this.run('remove memberships', async (client) => {
      const user = await this.findUser(client, person);
      if (!user) return;
      const current = new Map((await this.groupsOf(client, user.dn)).map((g) => [key(g.dn), g]));
      // A group the user is no longer in is done already (a retry, or someone else removed it).
      const held = grants.flatMap((g) => current.get(key(g.id)) ?? []);
      await allSettledOrThrow(held.map((g) => this.changeMember(client, 'delete', g, user.dn)));
    });
  }

  async restoreGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    if (grants.length === 0) return;
    await this.run('restore memberships', async (client) => {
      const user = await this.findUser(client, person);
      if (!user) {
        this.options.log.warn(
          { connector: this.name, personId: person.id },
          'ldap: user gone; nothing to restore',
        );
        return;
      }
      const current = new Set((await this.groupsOf(client, user.dn)).map((g) => key(g.dn)));
      const missing = grants.filter((g) => !current.has(key(g.id)));
      await allSettledOrThrow(
        missing.map(async (g) => {
          const group = await this.group(client, g.id);
          if (!group) {
            this.options.log.warn(
              { connector: this.name, group: g.id },
              'ldap: group gone; cannot restore into it',
            );
            return;
          }
          await this.changeMember(client, 'add', group, user.dn);
        }),
      );
    });
  }

  /** Disables the account only; its groups are left to `removeGrants`. False when there is no account. */
  disable(person: PersonRef): Promise<boolean> {
    return this.setEnabled(person, false);
  }

  /** Re-enables the account; grants are `restoreGrants`' job. False when there is no account. */
  enable(person: PersonRef): Promise<boolean> {
    return this.setEnabled(person, true);
  }

  async close(): Promise<void> {
    await this.sessions.close();
  }

  // ---- steps -------------------------------------------------------------

  /** One call: a bound connection, retried as a whole (every step in it is idempotent). */
  private async run<T>(what: string, fn: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await this.retrier.run(() => this.sessions.use(what, fn));
    } catch (err) {
      // What the server said is for the operator's log, not the audit (see ldapError).
      const cause = err instanceof ConnectorError ? err.cause : undefined;
      if (cause instanceof Error && resultCode(cause) !== undefined && cause.message) {
        this.options.log.warn(
          {
            connector: this.name,
            step: what,
            ldapResult: resultCode(cause),
            detail: cause.message.slice(0, 300),
          },
          'ldap: the server refused a step',
        );
      }
      throw err;
    }
  }

  private setEnabled(person: PersonRef, enabled: boolean): Promise<boolean> {
    return this.run(enabled ? 'enable' : 'disable', async (client) => {
      const user = await this.findUser(client, person);
      if (!user) return false;
      await setAccountEnabled(this.name, client, this.config.flavor, user, enabled, () =>
        this.findUser(client, person),
      );
      return true;
    });
  }

  /** The person's entry with the account attributes, or undefined when there is none. */
  private async findUser(client: Client, person: PersonRef): Promise<Entry | undefined> {
    const filter = userFilter(this.name, this.config.userFilter, person);
    const { searchEntries, searchReferences } = await client.search(this.config.baseDn, {
      scope: 'sub',
      filter,
      attributes: accountAttributes(this.config.flavor),
      sizeLimit: 2,
      derefAliases: 'never',
    });
    if (searchEntries.length === 0) this.refuseReferrals('user', this.config.baseDn, searchReferences);
    if (searchEntries.length > 1) {
      throw new ConnectorError(
        `${this.name}: more than one entry under ${this.config.baseDn} matches ${filter}; refusing to guess`,
        false,
      );
    }
    return searchEntries[0];
  }

  /** The groups under `groupBaseDn` that list `userDn` as a member, every page. */
  private async groupsOf(client: Client, userDn: string): Promise<Membership[]> {
    const { searchEntries, searchReferences } = await client.search(this.config.groupBaseDn, {
      scope: 'sub',
      filter: membershipFilter(this.config.flavor, userDn),
      attributes: ['cn', 'objectClass'],
      paged: { pageSize: PAGE },
      derefAliases: 'never',
    });
    this.refuseReferrals('group', this.config.groupBaseDn, searchReferences);
    return searchEntries.map((e) => this.membership(e));
  }

  /**
   * A subtree search that met referrals (RFC 4511 §4.5.3) has not seen the
   * entries on the servers they name, and lastday does not chase them (it
   * would have to bind there with its credentials). Read as complete, that
   * would be "no account" for a user who lives there, or a membership list
   * missing the groups there: revoke would end with them in place. AD's
   * application partitions, which every search from a domain's root refers
   * to, hold neither and are ignored.
   */
  private refuseReferrals(what: 'user' | 'group', base: string, references: readonly string[]): void {
    const unseen = references.filter((ref) => !AD_PARTITION.test(ref));
    if (unseen.length === 0) return;
    throw new ConnectorError(
      `${this.name}: the ${what} search under ${base} met ${unseen.length} referral(s) to another server, ` +
        `which lastday does not follow; point ${what === 'user' ? 'url and baseDn' : 'url and groupBaseDn'} ` +
        'at the part of the tree that holds them',
      false,
    );
  }

  /** One group by DN (for restore), or undefined when it is gone. */
  private async group(client: Client, dn: string): Promise<Membership | undefined> {
    try {
      const { searchEntries } = await client.search(dn, {
        scope: 'base',
        attributes: ['cn', 'objectClass'],
        derefAliases: 'never',
      });
      return searchEntries[0] && this.membership(searchEntries[0]);
    } catch (err) {
      if (resultCode(err) === LDAP_RESULT.noSuchObject) return undefined;
      throw err;
    }
  }

  private membership(entry: Entry): Membership {
    return {
      dn: entry.dn,
      cn: values(entry, 'cn')[0] ?? entry.dn,
      attribute: memberAttribute(this.config.flavor, values(entry, 'objectClass')),
    };
  }

  /**
   * Adds or deletes the user's DN in one group. The answers that mean "already
   * so" are success: attributeOrValueExists on add; noSuchAttribute (not a
   * member) and noSuchObject (group deleted) on delete.
   */
  private async changeMember(
    client: Client,
    operation: 'add' | 'delete',
    group: Membership,
    userDn: string,
  ): Promise<void> {
    try {
      await client.modify(
        group.dn,
        new Change({ operation, modification: new Attribute({ type: group.attribute, values: [userDn] }) }),
      );
    } catch (err) {
      const code = resultCode(err);
      if (operation === 'add' && code === LDAP_RESULT.attributeOrValueExists) return;
      if (
        operation === 'delete' &&
        (code === LDAP_RESULT.noSuchAttribute || code === LDAP_RESULT.noSuchObject)
      )
        return;
      const what = `${operation} ${group.attribute} of ${group.dn}`;
      if (code === LDAP_RESULT.objectClassViolation && operation === 'delete') {
        // groupOfNames and groupOfUniqueNames must keep one member (RFC 4519).
        throw new ConnectorError(
          `${this.name}: ${what}: the user is the group's last member, which its object class requires; ` +
            'give the group another member (or delete it) and the removal will complete',
          false,
          code,
        );
      }
      throw ldapError(this.name, what, err);
    }
  }
}

/** A referral to AD's DNS application partitions or configuration naming context (no accounts, no groups of ours). */
const AD_PARTITION = /^ldaps?:\/\/[^/]*\/(DC=DomainDnsZones|DC=ForestDnsZones|CN=Configuration),/i;

/** DNs compared the way directories compare them for our groups: case-insensitively. */
function key(dn: string): string {
  return dn.toLowerCase();
}
