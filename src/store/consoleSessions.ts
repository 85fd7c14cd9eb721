/**
 * Web console sessions, kept server-side in Redis under the prefix. The
 * browser holds only a random id (32 bytes, base64url) in an HttpOnly,
 * SameSite=Strict cookie; Redis holds the session under the id's SHA-256 with
 * an expiry, so neither a Redis dump nor a log line (the id is never logged)
 * lets anyone take a session over. Sign-out deletes it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from './redisClient.ts';
import type { Keys } from './keys.ts';

/** Who signed in, as the API sees a token's principal. */
export interface SessionPrincipal {
  name: string;
  role: 'viewer' | 'approver' | 'admin';
  personId?: string;
}

export interface ConsoleSession {
  principal: SessionPrincipal;
  /** How the person signed in. */
  via: 'token' | 'oidc';
  /** For token sign-ins: the token's SHA-256, so a token removed from the config ends its sessions. */
  tokenSha256?: string;
  /** The CSRF secret of this session (@fastify/csrf-protection reads it as `_csrf`). */
  _csrf: string;
  createdAt: string;
  expiresAt: string;
}

/** An OIDC sign-in between the redirect to the provider and its callback. */
export interface PendingOidc {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

export const SESSION_TTL_S = 8 * 3600;
export const OIDC_PENDING_TTL_S = 10 * 60;

const digest = (id: string) => createHash('sha256').update(id, 'utf8').digest('hex');
const newId = () => randomBytes(32).toString('base64url');
/** Ids this module hands out; anything else is not looked up. */
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class ConsoleSessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Stores a new session; returns the id for the cookie (never log it). */
  async create(
    session: Omit<ConsoleSession, '_csrf' | 'createdAt' | 'expiresAt'>,
    now: Date,
  ): Promise<{ id: string; session: ConsoleSession }> {
    const id = newId();
    const full: ConsoleSession = {
      ...session,
      _csrf: randomBytes(18).toString('base64url'),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + SESSION_TTL_S * 1000).toISOString(),
    };
    await this.redis.set(this.keys.consoleSession(digest(id)), JSON.stringify(full), 'EX', SESSION_TTL_S);
    return { id, session: full };
  }

  async get(id: string): Promise<ConsoleSession | undefined> {
    if (!ID_SHAPE.test(id)) return undefined;
    const raw = await this.redis.get(this.keys.consoleSession(digest(id)));
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as ConsoleSession;
    } catch {
      return undefined;
    }
  }

  async destroy(id: string): Promise<void> {
    if (ID_SHAPE.test(id)) await this.redis.del(this.keys.consoleSession(digest(id)));
  }

  /** Keeps an OIDC sign-in's secrets for the callback; returns the id for its cookie. */
  async putPendingOidc(pending: PendingOidc): Promise<string> {
    const id = newId();
    await this.redis.set(
      this.keys.consoleOidc(digest(id)),
      JSON.stringify(pending),
      'EX',
      OIDC_PENDING_TTL_S,
    );
    return id;
  }

  /** The pending sign-in, removed as it is read: a callback is used once. */
  async takePendingOidc(id: string): Promise<PendingOidc | undefined> {
    if (!ID_SHAPE.test(id)) return undefined;
    const raw = await this.redis.getdel(this.keys.consoleOidc(digest(id)));
    return raw ? (JSON.parse(raw) as PendingOidc) : undefined;
  }
}
