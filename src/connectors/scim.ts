/**
 * SCIM 2.0 connector (RFC 7643/7644). A person is found by a filter on the
 * configured attribute; their group memberships are the grants (group id,
 * displayName as role, privileged when the displayName matches a
 * `privilegedGroups` glob). Membership changes go through Group PATCH, the
 * account is disabled (and re-enabled) with a User PATCH of `active` and
 * nothing else: `disable` finds the user and patches it, without reading a
 * single group, so a failing Groups endpoint cannot keep a leaver active.
 *
 * Reading a group's name is auxiliary: when the User lists a membership by id
 * only and reading that group fails, `read` still reports every group it could
 * name and lists the others as `unresolved`, so `reduce` removes the
 * privileged groups it knows about now and retries for the rest.
 *
 * Safe to repeat against real servers:
 * - a write that failed with 5xx or a timeout is retried only after a read
 *   shows it has not taken effect (servers do apply and then time out);
 * - `400 noTarget` on a member removal is success once a read confirms the
 *   member is gone (many servers answer that for a removal already done);
 * - a user or group that is gone (404) means there is nothing left to change.
 *
 * With `removeAllGroupsOnRevoke: false`, revoke disables the account and
 * removes only privileged groups; the other memberships are kept on purpose
 * and, once the account is inactive, `read` does not report them, so verify
 * does not call them drift.
 */
import type { Logger } from 'pino';
import type { AccessState, Connector, Grant, PersonRef } from './connector.ts';
import { ConnectorError } from './connector.ts';
import { globMatcher } from '../domain/glob.ts';
import {
  errorSummary,
  connectorHttpClient,
  type HttpClient,
  type HttpResponse,
  responseDetail,
  type RetryPolicy,
  scimErrorType,
  statusLine,
} from './httpClient.ts';
import { eqFilter, matchAttributePath, memberPath } from './scimFilter.ts';
import { allSettledOrThrow } from './settled.ts';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SCIM_JSON = 'application/scim+json';
/** How long a user found by `read` is reused by the write that follows it. */
const RECENT_MS = 5_000;
/** Page size when listing a user's groups through /Groups. */
const PAGE = 100;

export interface ScimConnectorConfig {
  name: string;
  baseUrl: string;
  match: { attribute: 'userName' | 'externalId' | 'emails'; from: 'id' | 'email' };
  privilegedGroups: string[];
  removeAllGroupsOnRevoke: boolean;
  timeoutMs: number;
  concurrency: number;
}

export interface ScimConnectorOptions {
  /** The bearer token (read from `tokenEnv` by the registry). */
  token: string;
  log: Logger;
  retry?: Partial<RetryPolicy>;
}

interface ScimUser {
  id: string;
  active?: boolean;
  groups?: { value: string; display?: string }[];
}

interface ScimGroup {
  id: string;
  displayName?: string;
}

interface Membership {
  id: string;
  displayName: string;
}

/** A membership as listed, with its name when the listing carried one. */
interface Listed {
  id: string;
  displayName?: string | undefined;
}

export class ScimConnector implements Connector {
  readonly type = 'scim';
  readonly name: string;
  readonly http: HttpClient;
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly isPrivileged: (displayName: string) => boolean;
  /**
   * The user the last `read` found, per person, kept for a few seconds: every
   * effect reads and then acts on the same person at once (under the person
   * lock), so the write reuses it instead of searching again. Taken once.
   */
  private readonly recent = new Map<string, { user: ScimUser; at: number }>();

  constructor(
    private readonly config: ScimConnectorConfig,
    private readonly options: ScimConnectorOptions,
  ) {
    this.name = config.name;
    this.base = config.baseUrl.replace(/\/+$/, '');
    this.headers = {
      accept: `${SCIM_JSON}, application/json`,
      authorization: `Bearer ${options.token}`,
    };
    this.isPrivileged = globMatcher(config.privilegedGroups, { caseInsensitive: true });
    this.http = connectorHttpClient(config, options.retry);
  }

  async read(person: PersonRef): Promise<AccessState> {
    const user = await this.findUser(person);
    if (!user) return { exists: false, active: false, grants: [] };
    this.remember(person, user);
    const active = user.active !== false;
    const { named, unnamed } = await this.groupsOf(user);
    let grants = named.map((g) => this.toGrant(g));
    let unresolved = unnamed.map((id) => this.toGrant({ id, displayName: id }, false));
    if (!active) {
      if (this.config.removeAllGroupsOnRevoke) {
        // Revoke removes them all: what they are called does not matter.
        grants = [...grants, ...unresolved];
        unresolved = [];
      } else {
        // Kept on purpose when the config says so (see the module comment).
        grants = grants.filter((g) => g.privileged);
      }
    }
    return { exists: true, active, grants, ...(unresolved.length > 0 ? { unresolved } : {}) };
  }

  async removeGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    if (grants.length === 0) return;
    const user = this.takeRecent(person) ?? (await this.findUser(person));
    if (!user) return;
    await allSettledOrThrow(grants.map((g) => this.removeMember(g.id, user.id)));
  }

  async restoreGrants(person: PersonRef, grants: readonly Grant[]): Promise<void> {
    if (grants.length === 0) return;
    const user = this.takeRecent(person) ?? (await this.findUser(person));
    if (!user) {
      this.options.log.warn(
        { connector: this.name, personId: person.id },
        'scim: user gone; nothing to restore',
      );
      return;
    }
    const current = new Set((await this.listGroups(user)).map((g) => g.id));
    await allSettledOrThrow(
      grants.filter((g) => !current.has(g.id)).map((g) => this.addMember(g.id, user.id)),
    );
  }

  /** One user search and, when the account is active, one PATCH: no group is read. */
  async disable(person: PersonRef): Promise<boolean> {
    const user = await this.findUser(person);
    if (!user) return false;
    if (user.active !== false) await this.setActive(user.id, false);
    return true;
  }

  async enable(person: PersonRef): Promise<boolean> {
    const user = await this.findUser(person);
    if (!user) return false;
    if (user.active === false) await this.setActive(user.id, true);
    return true;
  }

  // ---- reads -------------------------------------------------------------

  private remember(person: PersonRef, user: ScimUser): void {
    const now = Date.now();
    for (const [k, v] of this.recent) if (now - v.at > RECENT_MS) this.recent.delete(k);
    this.recent.set(person.id, { user, at: now });
  }

  private takeRecent(person: PersonRef): ScimUser | undefined {
    const hit = this.recent.get(person.id);
    this.recent.delete(person.id);
    return hit && Date.now() - hit.at <= RECENT_MS ? hit.user : undefined;
  }

  /** The person's SCIM user, or undefined when there is none. */
  async findUser(person: PersonRef): Promise<ScimUser | undefined> {
    const value = this.config.match.from === 'email' ? person.email : person.id;
    if (!value) {
      throw new ConnectorError(
        `${this.name}: person ${person.id} has no ${this.config.match.from} to match on`,
        false,
      );
    }
    const filter = eqFilter(matchAttributePath(this.config.match.attribute), value);
    const res = await this.get(`/Users?${new URLSearchParams({ filter, startIndex: '1', count: '2' })}`);
    if (res.status === 404) return undefined;
    const { resources: list, totalResults } = this.listOf<ScimUser>(res, 'search users');
    if (list.length === 0 && (totalResults ?? 0) > 0) {
      throw new ConnectorError(
        `${this.name}: search users counted ${totalResults} match(es) for ${person.id} but listed none`,
        false,
        res.status,
      );
    }
    if (list.length > 1) {
      throw new ConnectorError(
        `${this.name}: ${list.length} users match ${this.config.match.attribute} for ${person.id}; refusing to guess`,
        false,
      );
    }
    return list[0];
  }

  /** Fresh state of one user by id; undefined when it is gone. */
  private async getUser(userId: string): Promise<ScimUser | undefined> {
    const res = await this.get(`/Users/${encodeURIComponent(userId)}`);
    if (res.status === 404) return undefined;
    this.expectOk(res, 'read user');
    return res.json as ScimUser;
  }

  /**
   * The user's groups as listed: from the User's read-only `groups` attribute
   * when the server returns it, else by searching Groups for the member (the
   * only way to know them then: a failure there fails the read).
   */
  private async listGroups(user: ScimUser): Promise<Listed[]> {
    if (Array.isArray(user.groups)) return user.groups.map((g) => ({ id: g.value, displayName: g.display }));
    const out = new Map<string, Listed>();
    // A server may answer fewer than `count` per page (RFC 7644 §3.4.2.4; many
    // cap at 20–200): the next page starts after what this one held, and only
    // `totalResults` or an empty page says the list is over.
    for (let start = 1; ;) {
      const filter = eqFilter('members.value', user.id);
      const query = new URLSearchParams({
        filter,
        attributes: 'displayName',
        startIndex: String(start),
        count: String(PAGE),
      });
      const res = await this.get(`/Groups?${query}`);
      const page = this.listOf<ScimGroup>(res, 'search groups');
      if (page.resources.length === 0) return [...out.values()];
      const fresh = page.resources.filter((g) => !out.has(g.id));
      if ((page.startIndex !== undefined && page.startIndex !== start) || fresh.length === 0) {
        // Its first page again: the rest of the list cannot be read, and
        // stopping here would leave those memberships in place unseen.
        throw new ConnectorError(
          `${this.name}: search groups ignored startIndex ${start} (answered the list from ` +
            `${page.startIndex ?? 'the start'} again); cannot list every group of user ${user.id}`,
          false,
          res.status,
        );
      }
      for (const g of fresh) out.set(g.id, { id: g.id, displayName: g.displayName ?? g.id });
      if (page.totalResults !== undefined && out.size >= page.totalResults) return [...out.values()];
      start += page.resources.length;
    }
  }

  /**
   * A list answer's resources, from a 2xx ListResponse (RFC 7644 §3.4.2):
   * `Resources` (each with an `id`) unless `totalResults` is 0. Anything else
   * (an HTML page from a proxy, an empty body, a list without `Resources`) is
   * a failure, never an empty list: "no such user" or "no more groups" would
   * end a revoke with the account or its groups left in place.
   */
  private listOf<T extends { id: string }>(
    res: HttpResponse,
    what: string,
  ): { resources: T[]; totalResults?: number; startIndex?: number } {
    this.expectOk(res, what);
    const body = res.json as
      { Resources?: unknown; totalResults?: unknown; startIndex?: unknown } | undefined;
    const totalResults = typeof body?.totalResults === 'number' ? body.totalResults : undefined;
    const startIndex = typeof body?.startIndex === 'number' ? body.startIndex : undefined;
    const meta = {
      ...(totalResults !== undefined ? { totalResults } : {}),
      ...(startIndex !== undefined ? { startIndex } : {}),
    };
    const list = body && typeof body === 'object' ? body.Resources : undefined;
    if (Array.isArray(list) && list.every((r) => typeof (r as { id?: unknown } | null)?.id === 'string'))
      return { resources: list as T[], ...meta };
    if (list === undefined && totalResults === 0) return { resources: [], ...meta };
    throw new ConnectorError(
      `${this.name}: ${what} answered ${statusLine(res.status)} without a SCIM ListResponse ` +
        `(${res.headers.get('content-type')?.split(';')[0] || 'no content type'})`,
      false,
      res.status,
      responseDetail(res, this.headers),
    );
  }

  /**
   * The user's groups with their names. A group listed by id only is read for
   * its name; when that read fails (and waiting may fix it) the group is
   * returned `unnamed` instead of failing the whole read. A group that is gone
   * (404) is no membership any more.
   */
  private async groupsOf(user: ScimUser): Promise<{ named: Membership[]; unnamed: string[] }> {
    const listed = await this.listGroups(user);
    const named: Membership[] = [];
    const unnamed: string[] = [];
    await allSettledOrThrow(
      listed.map(async (g) => {
        if (g.displayName) return void named.push({ id: g.id, displayName: g.displayName });
        try {
          const group = await this.getGroup(g.id);
          if (group) named.push({ id: g.id, displayName: group.displayName ?? g.id });
        } catch (err) {
          if (!(err instanceof ConnectorError) || !err.retryable) throw err;
          this.options.log.warn(
            { connector: this.name, groupId: g.id, err: err.message },
            'scim: cannot read a group name; classifying it later',
          );
          unnamed.push(g.id);
        }
      }),
    );
    return { named, unnamed };
  }

  private async getGroup(groupId: string): Promise<ScimGroup | undefined> {
    const res = await this.get(`/Groups/${encodeURIComponent(groupId)}?attributes=displayName`);
    if (res.status === 404) return undefined;
    this.expectOk(res, 'read group');
    return res.json as ScimGroup;
  }

  /** Whether the user is in the group now, from a fresh read of the user (no group names needed). */
  private async isMember(groupId: string, userId: string): Promise<boolean> {
    const user = await this.getUser(userId);
    if (!user) return false;
    return (await this.listGroups(user)).some((g) => g.id === groupId);
  }

  // ---- writes ------------------------------------------------------------

  private removeMember(groupId: string, userId: string): Promise<void> {
    const gone = async () => ((await this.isMember(groupId, userId)) ? { done: false as const } : done);
    return this.http.withRetries(async () => {
      const res = await this.patch(`/Groups/${encodeURIComponent(groupId)}`, [
        { op: 'remove', path: memberPath(userId) },
      ]);
      if (res.status === 404) return; // group deleted: the membership is gone with it
      if (res.status === 400 && scimErrorType(res) === 'noTarget') {
        // Already removed (a retry after an answer we lost), unless a read says otherwise.
        if ((await gone()).done) return;
        throw new ConnectorError(
          `${this.name}: group ${groupId} answered noTarget but still lists the user`,
          true,
          400,
        );
      }
      this.expectOk(res, `remove member from group ${groupId}`);
    }, gone);
  }

  private addMember(groupId: string, userId: string): Promise<void> {
    const there = async () => ((await this.isMember(groupId, userId)) ? done : { done: false as const });
    return this.http.withRetries(async () => {
      const res = await this.patch(`/Groups/${encodeURIComponent(groupId)}`, [
        { op: 'add', path: 'members', value: [{ value: userId }] },
      ]);
      if (res.status === 404) {
        this.options.log.warn({ connector: this.name, groupId }, 'scim: group gone; cannot restore into it');
        return;
      }
      this.expectOk(res, `add member to group ${groupId}`);
    }, there);
  }

  private setActive(userId: string, active: boolean): Promise<void> {
    const landed = async () => ((await this.getUser(userId))?.active === active ? done : notDone);
    return this.http.withRetries(async () => {
      const res = await this.patch(`/Users/${encodeURIComponent(userId)}`, [
        { op: 'replace', path: 'active', value: active },
      ]);
      if (res.status === 404) return;
      const what = active ? 'enable user' : 'deactivate user';
      this.expectOk(res, what);
      // A 200 carries the user as the server now has it (RFC 7644 §3.5.2): a
      // server that took the PATCH and ignored `active` says so there.
      const now = (res.json as { active?: unknown } | undefined)?.active;
      if (typeof now === 'boolean' && now !== active) {
        throw new ConnectorError(
          `${this.name}: ${what} answered ${statusLine(res.status)} but the user is still ${now ? 'active' : 'inactive'}`,
          false,
          res.status,
        );
      }
    }, landed);
  }

  // ---- plumbing ----------------------------------------------------------

  private get(path: string): Promise<HttpResponse> {
    return this.http.withRetries(() =>
      this.http.send({ method: 'GET', url: `${this.base}${path}`, headers: this.headers }),
    );
  }

  /** One PATCH try; the caller owns the retry loop (it must check before retrying). */
  private patch(path: string, operations: unknown[]): Promise<HttpResponse> {
    return this.http.send({
      method: 'PATCH',
      url: `${this.base}${path}`,
      headers: { ...this.headers, 'content-type': SCIM_JSON },
      body: JSON.stringify({ schemas: [PATCH_OP], Operations: operations }),
    });
  }

  /**
   * 2xx passes; any other answer left here is a request the server will keep
   * refusing. The message has the status and SCIM error type, not the body.
   */
  private expectOk(res: HttpResponse, what: string): void {
    if (res.status >= 200 && res.status < 300) return;
    throw new ConnectorError(
      `${this.name}: ${what} answered ${errorSummary(res)}`,
      false,
      res.status,
      responseDetail(res, this.headers),
    );
  }

  private privileged(g: Membership): boolean {
    return this.isPrivileged(g.displayName);
  }

  private toGrant(g: Membership, privileged = this.privileged(g)): Grant {
    return { id: g.id, system: this.name, role: g.displayName, privileged };
  }
}

const done = { done: true as const, value: undefined };
const notDone = { done: false as const };
