/**
 * Bearer tokens → principals. Tokens live in the config only as SHA-256 hex;
 * an incoming token is hashed and looked up by its hash. Roles: viewer <
 * approver < admin; `system` is separate and only opens the action routes.
 * Which role a route needs is declared on the route (src/http/access.ts).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { Role, TokenConfig } from '../config/schema.ts';
import { LastdayError } from '../domain/errors.ts';

const RANK: Record<Exclude<Role, 'system'>, number> = { viewer: 1, approver: 2, admin: 3 };

/** Who is calling: the config's token entry, never the token itself. */
export interface Principal {
  name: string;
  role: Role;
  personId?: string;
}

/**
 * SHA-256 hex of a token. One-shot `crypto.hash`: on the gate's path every
 * request hashes its token, and a `createHash` object costs ~4 µs where this
 * costs ~1 µs (same digest).
 */
export function sha256Hex(token: string): string {
  return hash('sha256', token, 'hex');
}

export function roleAllows(have: Role, need: Role): boolean {
  if (need === 'system' || have === 'system') return have === need;
  return RANK[have] >= RANK[need];
}

/** A configured token as the lookup keeps it: its digest and its principal, never the token. */
interface KnownToken {
  digest: Buffer;
  principal: Readonly<Principal>;
}

/**
 * The token → principal lookup of one token set. Each principal is built once,
 * with the set: a request hashes what it presented (SHA-256, a microsecond) and
 * finds the principal by that digest, allocating nothing else. It holds
 * digests only, never a raw token. A changed token set is a new TokenAuth
 * (the set is read at startup), so a principal cannot outlive its token.
 */
export class TokenAuth {
  private readonly byHash: Map<string, KnownToken>;
  constructor(tokens: readonly TokenConfig[]) {
    // The config schema refuses two entries with one hash; were it not so, the
    // last would silently win here.
    this.byHash = new Map(
      tokens.map((t) => {
        const hex = t.sha256.toLowerCase();
        return [hex, { digest: Buffer.from(hex, 'hex'), principal: Object.freeze(principalOf(t)) }];
      }),
    );
  }

  get configured(): boolean {
    return this.byHash.size > 0;
  }

  /**
   * The principal a presented token stands for.
   *
   * The lookup is by the SHA-256 of what was presented, so the map's string
   * comparison runs on a digest the caller cannot steer toward a stored one
   * (that would need a preimage); the final check is constant-time anyway.
   * @throws LastdayError unauthorized
   */
  authenticate(token: string): Readonly<Principal> {
    const hex = sha256Hex(token);
    const known = this.byHash.get(hex);
    if (!known || !timingSafeEqual(known.digest, Buffer.from(hex, 'hex'))) {
      throw new LastdayError('unauthorized', 'unknown token');
    }
    return known.principal;
  }

  /**
   * The principal of a token known by its SHA-256 (a console session signed in
   * with a token keeps only that), or undefined once the token is gone from the config.
   */
  byDigest(digest: string): Readonly<Principal> | undefined {
    return this.byHash.get(digest.toLowerCase())?.principal;
  }
}

function principalOf(entry: TokenConfig): Principal {
  return { name: entry.name, role: entry.role, ...(entry.personId ? { personId: entry.personId } : {}) };
}

/** The token of an `Authorization: Bearer <token>` header; undefined when absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return match?.[1];
}
