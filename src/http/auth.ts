/**
 * Bearer-token auth. Tokens live in the config only as SHA-256 hex; an incoming
 * token is hashed and looked up. Roles: viewer < approver < admin; `system` is
 * separate and only opens the action routes.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Role, TokenConfig } from '../config/schema.ts';
import { LastdayError } from '../domain/errors.ts';

const RANK: Record<Exclude<Role, 'system'>, number> = { viewer: 1, approver: 2, admin: 3 };

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
    this.byHash = new Map(tokens.map((t) => [t.sha256.toLowerCase(), t]));
  }

  get configured(): boolean {
    return this.byHash.size > 0;
  }

  /** @throws LastdayError unauthorized / forbidden */
  authorize(request: FastifyRequest, need: Role): Principal {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new LastdayError('unauthorized', 'missing bearer token');
    return this.authorizeToken(match[1]!, need);
  }

  /** Checks a token that arrived some other way than the header (the dashboard cookie). */
  authorizeToken(value: string, need: Role): Principal {
    const token = this.byHash.get(sha256Hex(value));
    if (!token) throw new LastdayError('unauthorized', 'unknown token');
    if (!roleAllows(token.role, need)) {
      throw new LastdayError('forbidden', `role ${token.role} may not do this; needs ${need}`);
    }
    return { name: token.name, role: token.role, ...(token.personId ? { personId: token.personId } : {}) };
  }
}
