/**
 * `revoke` in the built-in directory as one atomic write: disable the user,
 * keep the snapshot of every grant, remove them, record the effect and append
 * its audit entry, all in one chained script (lua/chain.ts).
 *
 * The audit entry names the grants removed, and its hash is computed in Node
 * before the script runs, so the grants are read first (one round trip, one
 * MULTI) and the script refuses, having written nothing, when the user or the
 * grants changed since: the read is then done again. Two round trips in all,
 * where disable, record, read, intent, remove and record took seven; one when
 * a revoke job sent the read in its lock's round trip (`read`, passed to `run`).
 *
 * What is recorded is what the step-by-step path (effects/revoke.ts with
 * effects/removal.ts) records, except that the disable and the removal land
 * together and are audited as one `effect.revoke` entry (`disabled: true`):
 * `c<n>.disable` = `disabled` {at}; `c<n>.revoke` = `done` {grants: snapshot},
 * or `not_found` {} when there is no user and none was disabled before.
 *
 * With partitions the step runs on the person's partition (`route`): the
 * directory user, the effects and the audit chain are all there (one slot).
 */
import { createHash } from 'node:crypto';
import type { AuditStore } from './audit.ts';
import { type Grant, grantSchema } from './directory.ts';
import { effectField } from './effects.ts';
import type { Keys } from './keys.ts';
import { chainedScript } from './lua/chain.ts';
import type { RedisClient } from './redisClient.ts';

/**
 * KEYS: effects hash, user hash, grants hash, [chain].
 * ARGV: revoke field, disable field, at, expected revoke state ('' = none),
 * expected digest of user and grants, outcome ('done'|'not_found'),
 * revoke data JSON, [chain].
 * Replies 'changed' (nothing written), or the outcome.
 */
const directoryRevokeScript = chainedScript(
  'directoryRevoke',
  `local rs = redis.call('HGET', KEYS[1], ARGV[1] .. ':state') or ''
if rs ~= ARGV[4] then return 'changed' end
local exists = redis.call('EXISTS', KEYS[2])
local parts = {tostring(exists)}
if exists == 1 then
  local flat = redis.call('HGETALL', KEYS[3])
  local byField, fields = {}, {}
  for i = 1, #flat, 2 do byField[flat[i]] = flat[i + 1]; fields[#fields + 1] = flat[i] end
  table.sort(fields)
  for _, f in ipairs(fields) do parts[#parts + 1] = f; parts[#parts + 1] = byField[f] end
end
if redis.sha1hex(table.concat(parts, '\\n')) ~= ARGV[5] then return 'changed' end
audit_append()
if ARGV[6] == 'not_found' then
  redis.call('HSET', KEYS[1], ARGV[1] .. ':state', 'not_found', ARGV[1] .. ':data', '{}')
  return 'not_found'
end
if exists == 1 then
  redis.call('HSET', KEYS[2], 'active', '0', 'updatedAt', ARGV[3], 'disabledAt', ARGV[3])
  redis.call('DEL', KEYS[3])
end
if redis.call('HGET', KEYS[1], ARGV[2] .. ':state') ~= 'disabled' then
  redis.call('HSET', KEYS[1], ARGV[2] .. ':state', 'disabled', ARGV[2] .. ':data', cjson.encode({at = ARGV[3]}))
end
redis.call('HSET', KEYS[1], ARGV[1] .. ':state', 'done', ARGV[1] .. ':data', ARGV[7])
return 'done'`,
);

export interface DirectoryRevokeStep {
  personId: string;
  /** Connector name (effect records and audit name it). */
  connector: string;
  /** Effect record names, e.g. `c1.revoke` and `c1.disable`. */
  revokeEffect: string;
  disableEffect: string;
  /** ISO instant of the step. */
  at: string;
}

/** What a revoke starts from, read in one MULTI (`DirectoryRevoke.read`). */
export interface DirectoryRevokeRead {
  personId: string;
  /** The person's effects hash, every field. */
  effects: Record<string, string>;
  exists: boolean;
  grants: Record<string, Buffer>;
}

export type DirectoryRevokeResult =
  { status: 'finished' } | { status: 'not_found' } | { status: 'done'; removed: Grant[] };

/** Reads and writes that lost to a concurrent change before the step gives up (retried by its job). */
const ATTEMPTS = 5;

/** Where a person's directory user, effects and audit chain live. */
export interface DirectoryRevokeRoute {
  keys: Keys;
  audit: AuditStore;
}

export class DirectoryRevoke {
  private readonly route: (personId: string) => DirectoryRevokeRoute;

  constructor(
    private readonly redis: RedisClient,
    keys: Keys,
    audit: AuditStore,
    /** The person's partition; `keys` and `audit` when not given (one partition). */
    route?: (personId: string) => DirectoryRevokeRoute,
  ) {
    this.route = route ?? (() => ({ keys, audit }));
  }

  /**
   * What `run` starts from: the person's effects, whether the user exists, its
   * grants, in one MULTI (one round trip; sent on the stores' connection, so a
   * caller can put it behind a command of its own, e.g. the person lock).
   */
  async read(personId: string): Promise<DirectoryRevokeRead> {
    const { keys } = this.route(personId);
    const replies = (await this.redis
      .multi()
      .hgetall(keys.effects(personId))
      .exists(keys.directoryUser(personId))
      .hgetallBuffer(keys.directoryGrants(personId))
      .exec()) as [[null, Record<string, string>], [null, number], [null, Record<string, Buffer>]];
    const exists = replies[1][1] === 1;
    return { personId, effects: replies[0][1], exists, grants: exists ? replies[2][1] : {} };
  }

  /**
   * Disables the user and removes every grant, recorded and audited once.
   * `finished` when an earlier run did it (nothing written). `read`: what
   * `read` returned for this person a moment ago, used for the first attempt
   * instead of reading again (anything else is ignored).
   * @throws when the user kept changing under it ATTEMPTS times in a row.
   */
  async run(step: DirectoryRevokeStep, read?: unknown): Promise<DirectoryRevokeResult> {
    const revokeField = effectField(step.revokeEffect, step.connector);
    const disableField = effectField(step.disableEffect, step.connector);
    const { keys, audit } = this.route(step.personId);
    const effectsKey = keys.effects(step.personId);
    const userKey = keys.directoryUser(step.personId);
    const grantsKey = keys.directoryGrants(step.personId);
    let given = isRead(read, step.personId) ? read : undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const seen = given ?? (await this.read(step.personId));
      given = undefined;
      const revokeState = seen.effects[`${revokeField}:state`] ?? null;
      const revokeData = seen.effects[`${revokeField}:data`] ?? null;
      const disableState = seen.effects[`${disableField}:state`] ?? null;
      if (revokeState === 'done' || revokeState === 'not_found') return { status: 'finished' };
      const { exists } = seen;
      const raw = seen.grants;

      const carried = revokeState === 'pending' ? pendingGrants(revokeData ?? null) : [];
      // As the connector reads it: the grants by id, then those that do not parse, by id.
      const held = Object.entries(raw)
        .map(([id, value]) => asGrant(id, value, step.connector))
        .sort((a, b) => Number(a.unreadable) - Number(b.unreadable) || a.grant.id.localeCompare(b.grant.id))
        .map((g) => g.grant);
      const snapshot = unionById(carried, held);
      // No user, and none disabled before: nothing to revoke here.
      const outcome = !exists && disableState !== 'disabled' ? 'not_found' : 'done';
      const reply = await audit.run(
        directoryRevokeScript,
        [effectsKey, userKey, grantsKey],
        [
          revokeField,
          disableField,
          step.at,
          revokeState ?? '',
          digest(exists, raw),
          outcome,
          JSON.stringify({ grants: snapshot }),
        ],
        {
          at: step.at,
          type: 'effect.revoke',
          actor: 'lastday',
          personId: step.personId,
          details:
            outcome === 'not_found'
              ? { connector: step.connector, result: 'not_found' }
              : { connector: step.connector, disabled: true, removed: snapshot.map((g) => g.id) },
        },
        // The disable is the critical effect: ahead of saves waiting for the chain.
        { first: true },
      );
      if (reply === 'not_found') return { status: 'not_found' };
      if (reply === 'done') return { status: 'done', removed: snapshot };
    }
    throw new Error(`${step.connector}: the user changed during revoke ${ATTEMPTS} times; retrying`);
  }
}

function isRead(read: unknown, personId: string): read is DirectoryRevokeRead {
  return typeof read === 'object' && read !== null && (read as DirectoryRevokeRead).personId === personId;
}

/** What the script hashes (redis.sha1hex), from the same bytes: existence, then fields and values by field. */
function digest(exists: boolean, grants: Record<string, Buffer>): string {
  const parts: Buffer[] = [Buffer.from(exists ? '1' : '0')];
  if (exists) {
    const fields = Object.keys(grants).map((f) => Buffer.from(f, 'utf8'));
    fields.sort(Buffer.compare);
    for (const f of fields) parts.push(f, grants[f.toString('utf8')]!);
  }
  const hash = createHash('sha1');
  parts.forEach((p, i) => {
    if (i > 0) hash.update('\n');
    hash.update(p);
  });
  return hash.digest('hex');
}

/** A stored grant, or, when it does not parse, a grant named by its id (revoke removes it all the same). */
function asGrant(id: string, value: Buffer, connector: string): { grant: Grant; unreadable: boolean } {
  try {
    const parsed = grantSchema.safeParse(JSON.parse(value.toString('utf8')));
    if (parsed.success && parsed.data.id === id) return { grant: parsed.data, unreadable: false };
  } catch {
    // Not JSON: named by its id below.
  }
  return { grant: { id, system: connector, role: id, privileged: false }, unreadable: true };
}

function pendingGrants(data: string | null): Grant[] {
  try {
    const parsed = JSON.parse(data ?? '{}') as { grants?: Grant[] };
    return Array.isArray(parsed.grants) ? parsed.grants : [];
  } catch {
    return [];
  }
}

function unionById(a: readonly Grant[], b: readonly Grant[]): Grant[] {
  const byId = new Map<string, Grant>();
  for (const g of [...a, ...b]) byId.set(g.id, g);
  return [...byId.values()];
}
