/**
 * The built-in directory: lastday's own Redis-backed user store, the embedded
 * default connector's backend. A user is a hash {active, updatedAt} plus a hash
 * of grants by id; HDEL/HSET make removal and restore naturally idempotent.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Keys } from './keys.ts';

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

export class DirectoryStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async put(personId: string, user: DirectoryUser, at: string): Promise<void> {
    const grantsKey = this.keys.directoryGrants(personId);
    const tx = this.redis
      .multi()
      .del(grantsKey)
      .hset(this.keys.directoryUser(personId), {
        active: user.active ? '1' : '0',
        updatedAt: at,
      });
    if (user.grants.length > 0) {
      tx.hset(grantsKey, Object.fromEntries(user.grants.map((g) => [g.id, JSON.stringify(g)])));
    }
    await tx.exec();
  }

  async get(personId: string): Promise<(DirectoryUser & { updatedAt: string }) | undefined> {
    const [[, user], [, grants]] = (await this.redis
      .multi()
      .hgetall(this.keys.directoryUser(personId))
      .hgetall(this.keys.directoryGrants(personId))
      .exec()) as [[null, Record<string, string>], [null, Record<string, string>]];
    if (!user || Object.keys(user).length === 0) return undefined;
    return {
      active: user.active === '1',
      updatedAt: user.updatedAt ?? '',
      grants: Object.values(grants ?? {})
        .map((g) => JSON.parse(g) as Grant)
        .sort((a, b) => a.id.localeCompare(b.id)),
    };
  }

  async removeGrants(personId: string, grantIds: readonly string[], at: string): Promise<void> {
    if (grantIds.length === 0) return;
    await this.redis
      .multi()
      .hdel(this.keys.directoryGrants(personId), ...grantIds)
      .hset(this.keys.directoryUser(personId), 'updatedAt', at)
      .exec();
  }

  async addGrants(personId: string, grants: readonly Grant[], at: string): Promise<void> {
    if (grants.length === 0) return;
    await this.redis
      .multi()
      .hset(
        this.keys.directoryGrants(personId),
        Object.fromEntries(grants.map((g) => [g.id, JSON.stringify(g)])),
      )
      .hset(this.keys.directoryUser(personId), 'updatedAt', at)
      .exec();
  }

  /** Disables the user and removes every remaining grant, in one step. */
  async disable(personId: string, at: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.directoryUser(personId), 'active', '0', 'updatedAt', at, 'disabledAt', at)
      .del(this.keys.directoryGrants(personId))
      .exec();
  }
}
