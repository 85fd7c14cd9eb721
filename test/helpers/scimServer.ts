/**
 * A real SCIM 2.0 service provider for tests: scimmy's resource handlers and
 * scimmy-routers' express endpoints (a SCIM implementation lastday's authors
 * did not write), over an in-memory store of Users and Groups, on a random
 * local port.
 *
 * Fault knobs act in front of the SCIM router, the way a gateway or a loaded
 * server does: answer 429 (with Retry-After) or 503 for the next N requests,
 * be down until told, apply a write and then answer 504, refuse the token,
 * or fail only some routes (`faults.rules`: 503 on `GET /Groups`, 503 on a
 * group `PATCH`, a group `PATCH` applied and then answered 504).
 * `strictRemove` makes member removals of a non-member answer
 * `400 noTarget`, as many production servers do (scimmy itself accepts them).
 *
 * How Users show their groups is a knob too, because real servers differ:
 * `userGroups: 'omit'` leaves the read-only `groups` attribute out (clients
 * must search `/Groups`), and `valueOnlyGroups` lists groups that appear in it
 * by id only, without `display` (clients must read the group for its name).
 *
 * scimmy's resource declarations are process-wide; each server passes its own
 * store to the handlers through the router's `context`, so several servers
 * can run in one test file.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import type { RetryPolicy } from '../../src/connectors/retry.ts';
import { ScimConnector, type ScimConnectorConfig } from '../../src/connectors/scim.ts';
import { testLogger } from './lastday.ts';

export interface ScimUserRecord {
  id: string;
  userName: string;
  externalId?: string;
  emails?: { value: string; primary?: boolean }[];
  active: boolean;
}

export interface ScimGroupRecord {
  id: string;
  displayName: string;
  members: string[];
}

export interface MembershipChange {
  op: 'add' | 'remove';
  groupId: string;
  userId: string;
}

export interface ScimStore {
  users: Map<string, ScimUserRecord>;
  groups: Map<string, ScimGroupRecord>;
  /** Every accepted write (ingress) by resource type. */
  writes: { users: number; groups: number };
  /** Every membership change, in order: a change applied twice shows twice. */
  changes: MembershipChange[];
  /** `active` changes, in order. */
  activeChanges: { userId: string; active: boolean }[];
}

/**
 * A fault on some routes only. Matches requests whose method (when given) is
 * `method` and whose path starts with `path` (`/Groups` matches `/Groups/…`).
 */
export interface FaultRule {
  method?: string;
  path: string;
  status: number;
  /** Only the next `count` matching requests; unset: until the rule is removed. */
  count?: number;
  /** Let the server apply the request, then answer `status` instead of its result. */
  applyFirst?: boolean;
  /** The error's `detail` and `scimType` (default: `service unavailable`, none). */
  detail?: string;
  scimType?: string;
  /**
   * Answer `status` with this raw body instead of a SCIM error (a proxy's
   * HTML page, a body that is not what RFC 7644 says), typed `contentType`.
   */
  body?: string;
  contentType?: string;
}

export interface Faults {
  /** Route-specific faults, checked in order before the others. */
  rules?: FaultRule[];
  /** Answer this status to the next `count` requests (any method). */
  failNext?: { count: number; status: number; retryAfter?: string };
  /** Answer this status to every request until cleared. */
  down?: number | undefined;
  /** Apply the next `count` writes, then answer 504 instead of the result. */
  applyThenFail?: { count: number; status?: number };
  /** Apply every `every`-th write and then answer 504 (a fraction of writes). */
  applyThenFailEvery?: number;
  /** Answer 403 to everything (a token that lost its rights). */
  forbid?: boolean;
  /** Hold the next `count` requests for `ms` before handling them (slower than the client's timeout). */
  stallNext?: { count: number; ms: number };
}

export interface ScimTestServer {
  /** Base URL ending before `/Users`. */
  url: string;
  token: string;
  store: ScimStore;
  faults: Faults;
  strictRemove: boolean;
  /** `full` (default): Users carry `groups` with `display`; `omit`: no `groups` attribute at all. */
  userGroups: 'full' | 'omit';
  /** Group ids listed in a User's `groups` by `value` only (no `display`). */
  valueOnlyGroups: Set<string>;
  /**
   * The most resources one list answer holds, whatever `count` asked for
   * (RFC 7644 §3.4.2.4 lets a server return fewer; real ones cap at 50–200).
   */
  maxPageSize: number | undefined;
  /** `ignoreStartIndex`: every list answer is the first page (a server that cannot page). */
  pagination: 'honour' | 'ignoreStartIndex';
  /** Requests seen, by `METHOD path` (query dropped). */
  requests: string[];
  /** Answers sent: method, path, status and SCIM error type. */
  responses: { method: string; path: string; status: number; ms: number }[];
  /**
   * Called before each request is handled; tests use it to change the store
   * behind lastday's back at an exact moment (e.g. between its read and its write).
   */
  onRequest?: ((method: string, path: string, body: unknown) => void) | undefined;
  /** Removes a member outside SCIM (another admin, an earlier lost answer), recorded as a change. */
  removeMemberDirect(groupId: string, userId: string): void;
  addUser(user: Omit<ScimUserRecord, 'id' | 'active'> & { active?: boolean; id?: string }): ScimUserRecord;
  addGroup(displayName: string, members?: string[], id?: string): ScimGroupRecord;
  groupsOf(userId: string): string[];
  /** Membership changes of one user in one group. */
  changesFor(userId: string, groupId?: string): MembershipChange[];
  close(): Promise<void>;
}

type Store = ScimStore;
interface Ctx {
  store: Store;
  view: Pick<ScimTestServer, 'userGroups' | 'valueOnlyGroups'>;
}

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

let declared = false;

/** Registers the User and Group handlers once per process; they read the store from `ctx`. */
function declareResources(): void {
  if (declared) return;
  declared = true;
  const userOut = ({ store, view }: Ctx, u: ScimUserRecord) => ({
    id: u.id,
    userName: u.userName,
    ...(u.externalId !== undefined ? { externalId: u.externalId } : {}),
    ...(u.emails ? { emails: u.emails } : {}),
    active: u.active,
    ...(view.userGroups === 'omit'
      ? {}
      : {
          groups: [...store.groups.values()]
            .filter((g) => g.members.includes(u.id))
            .map((g) =>
              view.valueOnlyGroups.has(g.id) ? { value: g.id } : { value: g.id, display: g.displayName },
            ),
        }),
  });
  const groupOut = (g: ScimGroupRecord) => ({
    id: g.id,
    displayName: g.displayName,
    members: g.members.map((value) => ({ value })),
  });
  type Res = { id?: string; filter?: { match(values: unknown[]): unknown[] } };
  const pick = <T>(res: Res, all: T[], id: (t: T) => string): T | T[] => {
    if (res.id) {
      const one = all.find((t) => id(t) === res.id);
      if (!one) throw new Error('not found'); // scimmy answers 404
      return one;
    }
    return res.filter ? (res.filter.match(all) as T[]) : all;
  };

  SCIMMY.Resources.declare(SCIMMY.Resources.User, {
    egress: ((res: Res, ctx: Ctx) => {
      // Match first on the stored attributes, then compute `groups` only for
      // the users returned (like an indexed directory, not a full scan).
      const found = pick(res, [...ctx.store.users.values()], (u) => u.id);
      return Array.isArray(found) ? found.map((u) => userOut(ctx, u)) : userOut(ctx, found);
    }) as never,
    ingress: ((res: Res, instance: Record<string, unknown>, ctx: Ctx) => {
      const { store } = ctx;
      store.writes.users++;
      const existing = res.id ? store.users.get(res.id) : undefined;
      if (res.id && !existing) throw new Error('not found');
      const next: ScimUserRecord = {
        id: existing?.id ?? randomUUID(),
        userName: String(instance.userName ?? existing?.userName),
        active: instance.active === undefined ? (existing?.active ?? true) : instance.active === true,
        ...(instance.externalId !== undefined
          ? { externalId: String(instance.externalId) }
          : existing?.externalId !== undefined
            ? { externalId: existing.externalId }
            : {}),
        ...(Array.isArray(instance.emails)
          ? { emails: instance.emails as NonNullable<ScimUserRecord['emails']> }
          : existing?.emails
            ? { emails: existing.emails }
            : {}),
      };
      if (existing && existing.active !== next.active)
        store.activeChanges.push({ userId: next.id, active: next.active });
      store.users.set(next.id, next);
      return userOut(ctx, next);
    }) as never,
    degress: ((res: Res, ctx: Ctx) => {
      if (!res.id || !ctx.store.users.delete(res.id)) throw new Error('not found');
    }) as never,
  });

  SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
    egress: ((res: Res, ctx: Ctx) =>
      pick(res, [...ctx.store.groups.values()].map(groupOut), (g) => g.id)) as never,
    ingress: ((res: Res, instance: Record<string, unknown>, ctx: Ctx) => {
      const { store } = ctx;
      store.writes.groups++;
      const existing = res.id ? store.groups.get(res.id) : undefined;
      if (res.id && !existing) throw new Error('not found');
      const members = ((instance.members as { value: string }[] | undefined) ?? []).map((m) => m.value);
      const next: ScimGroupRecord = {
        id: existing?.id ?? randomUUID(),
        displayName: String(instance.displayName ?? existing?.displayName),
        members,
      };
      recordMembershipDiff(store, next.id, existing?.members ?? [], members);
      store.groups.set(next.id, next);
      return groupOut(next);
    }) as never,
    degress: ((res: Res, ctx: Ctx) => {
      if (!res.id || !ctx.store.groups.delete(res.id)) throw new Error('not found');
    }) as never,
  });
}

/** Multiset difference, so a member added twice counts twice. */
function recordMembershipDiff(store: Store, groupId: string, before: string[], after: string[]): void {
  const count = (list: string[]) => list.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map());
  const b = count(before);
  const a = count(after);
  for (const userId of new Set([...before, ...after])) {
    const delta = (a.get(userId) ?? 0) - (b.get(userId) ?? 0);
    for (let i = 0; i < Math.abs(delta); i++)
      store.changes.push({ op: delta > 0 ? 'add' : 'remove', groupId, userId });
  }
}

function scimError(res: Response, status: number, detail: string, scimType?: string): void {
  res
    .status(status)
    .type('application/scim+json')
    .send(
      JSON.stringify({
        schemas: [ERROR_SCHEMA],
        status: String(status),
        detail,
        ...(scimType ? { scimType } : {}),
      }),
    );
}

/** Lets the router apply the request, then replaces its answer with `status` (a gateway timing out). */
function answerAfterApplying(res: Response, status: number): void {
  const send = res.send.bind(res);
  res.send = ((_body?: unknown) => {
    res.send = send;
    res.status(status);
    return send(
      JSON.stringify({ schemas: [ERROR_SCHEMA], status: String(status), detail: 'gateway timeout' }),
    );
  }) as typeof res.send;
}

export async function startScimServer(
  options: { token?: string; port?: number } = {},
): Promise<ScimTestServer> {
  declareResources();
  const token = options.token ?? `scim-${randomUUID()}`;
  const store: Store = {
    users: new Map(),
    groups: new Map(),
    writes: { users: 0, groups: 0 },
    changes: [],
    activeChanges: [],
  };
  const faults: Faults = {};
  const requests: string[] = [];
  const responses: ScimTestServer['responses'] = [];
  let writeNo = 0;
  const app = express();

  const server: ScimTestServer = {
    url: '',
    token,
    store,
    faults,
    strictRemove: true,
    userGroups: 'full',
    valueOnlyGroups: new Set(),
    maxPageSize: undefined,
    pagination: 'honour',
    requests,
    responses,
    removeMemberDirect(groupId, userId) {
      const g = store.groups.get(groupId);
      if (!g) return;
      const members = g.members.filter((m) => m !== userId);
      recordMembershipDiff(store, groupId, g.members, members);
      g.members = members;
    },
    addUser(user) {
      const rec: ScimUserRecord = { ...user, id: user.id ?? randomUUID(), active: user.active ?? true };
      store.users.set(rec.id, rec);
      return rec;
    },
    addGroup(displayName, members = [], id = randomUUID()) {
      const rec = { id, displayName, members: [...members] };
      store.groups.set(id, rec);
      return rec;
    },
    groupsOf(userId) {
      return [...store.groups.values()].filter((g) => g.members.includes(userId)).map((g) => g.displayName);
    },
    changesFor(userId, groupId) {
      return store.changes.filter((c) => c.userId === userId && (!groupId || c.groupId === groupId));
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };

  app.use(express.json({ type: ['application/scim+json', 'application/json'] }));
  // Mounted on the SCIM base so `req.path` is `/Users/…`, `/Groups/…`.
  app.use('/scim/v2', (req: Request, res: Response, next: NextFunction) => {
    requests.push(`${req.method} ${req.path}`);
    const { method, path } = req; // sub-routers rewrite req.url while handling
    const started = performance.now();
    res.on('finish', () =>
      responses.push({ method, path, status: res.statusCode, ms: performance.now() - started }),
    );
    server.onRequest?.(req.method, req.path, req.body);
    if (faults.stallNext && faults.stallNext.count > 0) {
      faults.stallNext.count--;
      const { ms } = faults.stallNext;
      setTimeout(() => (res.destroyed ? undefined : next()), ms);
      return;
    }
    const rule = faults.rules?.find(
      (r) =>
        (r.count === undefined || r.count > 0) &&
        (!r.method || r.method === req.method) &&
        req.path.startsWith(r.path),
    );
    if (rule) {
      if (rule.count !== undefined) rule.count--;
      if (rule.body !== undefined && !rule.applyFirst)
        return void res
          .status(rule.status)
          .type(rule.contentType ?? 'text/html')
          .send(rule.body);
      if (!rule.applyFirst)
        return scimError(res, rule.status, rule.detail ?? 'service unavailable', rule.scimType);
    }
    if (faults.forbid) return scimError(res, 403, 'forbidden');
    if (faults.down) return scimError(res, faults.down, 'service unavailable');
    if (faults.failNext && faults.failNext.count > 0) {
      faults.failNext.count--;
      if (faults.failNext.retryAfter) res.setHeader('retry-after', faults.failNext.retryAfter);
      return scimError(res, faults.failNext.status, 'try again later');
    }
    if (req.method === 'GET') {
      // Express 5 parses `req.query` afresh on each read, so scimmy-routers'
      // cast of `startIndex`/`count` to numbers would not stick and every list
      // would be its first 20 resources: pin one parsed object it can cast.
      const query = { ...(req.query as Record<string, unknown>) };
      if (server.pagination === 'ignoreStartIndex') delete query.startIndex;
      const asked = Number(query.count ?? NaN);
      if (server.maxPageSize !== undefined && !(asked <= server.maxPageSize))
        query.count = String(server.maxPageSize);
      Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true });
      if (rule?.applyFirst) answerAfterApplying(res, rule.status);
      return next();
    }
    if (server.strictRemove && req.method === 'PATCH' && req.path.startsWith('/Groups/')) {
      const group = store.groups.get(decodeURIComponent(req.path.slice('/Groups/'.length)));
      const ops =
        (req.body as { Operations?: { op?: string; path?: string }[] } | undefined)?.Operations ?? [];
      for (const op of ops) {
        const m = /^members\[value eq "((?:[^"\\]|\\.)*)"\]$/.exec(op.path ?? '');
        if (group && op.op?.toLowerCase() === 'remove' && m) {
          const userId = JSON.parse(`"${m[1]}"`) as string;
          if (!group.members.includes(userId)) {
            return scimError(res, 400, `no member ${userId}`, 'noTarget');
          }
        }
      }
    }
    writeNo++;
    const once = faults.applyThenFail && faults.applyThenFail.count > 0;
    const every = faults.applyThenFailEvery && writeNo % faults.applyThenFailEvery === 0;
    if (rule?.applyFirst) answerAfterApplying(res, rule.status);
    else if (once || every) {
      if (once) faults.applyThenFail!.count--;
      answerAfterApplying(res, (once ? faults.applyThenFail?.status : undefined) ?? 504);
    }
    next();
  });
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      handler: (req) => {
        if (req.header('authorization') !== `Bearer ${token}`) throw new Error('unknown token');
        return 'lastday';
      },
      context: () => ({ store, view: server }) satisfies Ctx,
    }) as unknown as express.Router,
  );

  const http: Server = await new Promise((resolve) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
  });
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/scim/v2`;
  return server;
}

/**
 * lastday's SCIM connector on a test server, as the tests configure it:
 * `userName` matched with the person id, `*-admins` privileged, every group
 * removed on revoke, fast retries. `config` and `options` override.
 */
export function scimConnectorFor(
  scim: ScimTestServer,
  config: Partial<ScimConnectorConfig> = {},
  options: { token?: string; retry?: Partial<RetryPolicy> } = {},
): ScimConnector {
  return new ScimConnector(
    {
      name: 'idp',
      baseUrl: scim.url,
      match: { attribute: 'userName', from: 'id' },
      privilegedGroups: ['*-admins'],
      removeAllGroupsOnRevoke: true,
      timeoutMs: 2_000,
      concurrency: 4,
      ...config,
    },
    {
      token: options.token ?? scim.token,
      log: testLogger(),
      retry: options.retry ?? { baseDelayMs: 5, maxDelayMs: 20 },
    },
  );
}
