/**
 * The built-in directory: lastday's own Redis-backed user store, the embedded
 * default connector's backend. A user is a hash {active, updatedAt} plus a hash
 * of grants by id; HDEL/HSET make removal and restore naturally idempotent.
 *
 * Disabling and enabling touch the user hash only, and only when the user
 * exists: they never depend on reading the grants.
 *
 * With partitions a user's keys live in their person's partition (`keysOf`),
 * next to the person's effects and audit chain, so the one-script revoke
 * (store/directoryRevoke.ts) stays in one slot and the directory spreads over
 * the masters like everything else a person has. With one partition on the
 * global prefix the key names are those of before.
 */
import type { RedisClient } from './redisClient.ts';
import { z } from 'zod';
import type { Keys } from './keys.ts';
import { Script } from './lua/script.ts';

/**
 * Sets `active` on an existing user (never creates one). KEYS: user hash.
 * ARGV: '0'|'1', at, the timestamp field to set. Returns 1 when the user exists.
 */
const setActiveScript = new Script(
  'directorySetActive',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'active', ARGV[1], 'updatedAt', ARGV[2], ARGV[3], ARGV[2])
return 1`,
);

export const grantSchema = z
  .object({
    id: z.string().min(1).max(200),
    system: z.string().min(1).max(200),
    role: z.string().min(1).max(200),
    privileged: z.boolean().default(false),
  })
  .strict();

export const directoryUserSchema = z
  .object({
    active: z.boolean(),
    grants: z.array(grantSchema).max(1000).default([]),
  })
  .strict();

export type Grant = z.infer<typeof grantSchema>;
export type DirectoryUser = z.infer<typeof directoryUserSchema>;

/** A user as the connector reads it: grant entries that do not parse are listed apart, by id. */
export interface DirectoryAccess {
  active: boolean;
  grants: Grant[];
  unreadable: string[];
}

export class DirectoryStore {
  private readonly keysOf: (personId: string) => Keys;

  constructor(
    private readonly redis: RedisClient,
    keys: Keys,
    /** The keys of a person's partition; the global `keys` when not given (one partition). */
    keysOf?: (personId: string) => Keys,
  ) {
    this.keysOf = keysOf ?? (() => keys);
  }

  async put(personId: string, user: DirectoryUser, at: string): Promise<void> {
    const grantsKey = this.keysOf(personId).directoryGrants(personId);
    const tx = this.redis
      .multi()
      .del(grantsKey)
      .hset(this.keysOf(personId).directoryUser(personId), {
        active: user.active ? '1' : '0',
        updatedAt: at,
      });
    if (user.grants.length > 0) {
      tx.hset(grantsKey, Object.fromEntries(user.grants.map((g) => [g.id, JSON.stringify(g)])));
    }
    await tx.exec();
  }

  async get(personId: string): Promise<(DirectoryUser & { updatedAt: string }) | undefined> {
    const stored = await this.read(personId);
    if (!stored) return undefined;
    const { user, grants } = stored;
    return {
      active: user.active === '1',
      updatedAt: user.updatedAt ?? '',
      grants: Object.values(grants)
        .map((g) => JSON.parse(g) as Grant)
        .sort((a, b) => a.id.localeCompare(b.id)),
    };
  }

  async removeGrants(personId: string, grantIds: readonly string[], at: string): Promise<void> {
    if (grantIds.length === 0) return;
    await this.redis
      .multi()
      .hdel(this.keysOf(personId).directoryGrants(personId), ...grantIds)
      .hset(this.keysOf(personId).directoryUser(personId), 'updatedAt', at)
      .exec();
  }

  async addGrants(personId: string, grants: readonly Grant[], at: string): Promise<void> {
    if (grants.length === 0) return;
    await this.redis
      .multi()
      .hset(
        this.keysOf(personId).directoryGrants(personId),
        Object.fromEntries(grants.map((g) => [g.id, JSON.stringify(g)])),
      )
      .hset(this.keysOf(personId).directoryUser(personId), 'updatedAt', at)
      .exec();
  }

  /**
   * The user for the connector. Unlike `get`, an entry that is not a valid
   * grant (written by hand or by an older version) does not fail the read: its
   * id is listed in `unreadable`.
   */
  async access(personId: string): Promise<DirectoryAccess | undefined> {
    const stored = await this.read(personId);
    if (!stored) return undefined;
    const { user, grants } = stored;
    const parsed: Grant[] = [];
    const unreadable: string[] = [];
    for (const [id, raw] of Object.entries(grants)) {
      const grant = parseGrant(raw);
      if (grant && grant.id === id) parsed.push(grant);
      else unreadable.push(id);
    }
    parsed.sort((a, b) => a.id.localeCompare(b.id));
    return { active: user.active === '1', grants: parsed, unreadable: unreadable.sort() };
  }

  /** Disables the user (the grants stay for `removeGrants`); false when there is no such user. */
  async disable(personId: string, at: string): Promise<boolean> {
    return this.setActive(personId, false, at);
  }

  /** Re-enables the user; false when there is no such user. */
  async enable(personId: string, at: string): Promise<boolean> {
    return this.setActive(personId, true, at);
  }

  /** The user's hash and its grants' hash, read in one MULTI; undefined when there is no such user. */
  private async read(
    personId: string,
  ): Promise<{ user: Record<string, string>; grants: Record<string, string> } | undefined> {
    const keys = this.keysOf(personId);
    const [[, user], [, grants]] = (await this.redis
      .multi()
      .hgetall(keys.directoryUser(personId))
      .hgetall(keys.directoryGrants(personId))
      .exec()) as [[null, Record<string, string>], [null, Record<string, string>]];
    if (!user || Object.keys(user).length === 0) return undefined;
    return { user, grants: grants ?? {} };
  }

  private async setActive(personId: string, active: boolean, at: string): Promise<boolean> {
    const found = await setActiveScript.run(
      this.redis,
      [this.keysOf(personId).directoryUser(personId)],
      [active ? '1' : '0', at, active ? 'enabledAt' : 'disabledAt'],
    );
    return Number(found) === 1;
  }
}

function parseGrant(raw: string): Grant | undefined {
  try {
    const result = grantSchema.safeParse(JSON.parse(raw));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
