/**
 * Bearer tokens → principals. Tokens live in the config only as SHA-256 hex;
 * an incoming token is hashed and looked up by its hash. Roles: viewer <
 * approver < admin; `system` is separate and only opens the action routes.
 * Which role a route needs is declared on the route (src/http/access.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Role, TokenConfig } from '../config/schema.ts';
import { LastdayError } from '../domain/errors.ts';

const RANK: Record<Exclude<Role, 'system'>, number> = { viewer: 1, approver: 2, admin: 3 };

/** Who is calling: the config's token entry, never the token itself. */
export interface Principal {
  name: string;
  role: Role;
  personId?: string;
}

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function roleAllows(have: Role, need: Role): boolean {
  if (need === 'system' || have === 'system') return have === need;
  return RANK[have] >= RANK[need];
}

export class TokenAuth {
  private readonly byHash: Map<string, TokenConfig>;
  constructor(tokens: readonly TokenConfig[]) {
    // The config schema refuses two entries with one hash; were it not so, the
    // last would silently win here.
    this.byHash = new Map(tokens.map((t) => [t.sha256.toLowerCase(), t]));
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
  authenticate(token: string): Principal {
    const digest = sha256Hex(token);
    const entry = this.byHash.get(digest);
    if (!entry || !timingSafeEqual(Buffer.from(entry.sha256, 'hex'), Buffer.from(digest, 'hex'))) {
      throw new LastdayError('unauthorized', 'unknown token');
    }
    return principalOf(entry);
  }

  /**
   * The principal of a token known by its SHA-256 (a console session signed in
   * with a token keeps only that), or undefined once the token is gone from the config.
   */
  byDigest(digest: string): Principal | undefined {
    const entry = this.byHash.get(digest.toLowerCase());
    return entry ? principalOf(entry) : undefined;
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
