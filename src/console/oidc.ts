/**
 * Console sign-in through OpenID Connect (contract `auth.oidc`): the
 * authorization-code flow with PKCE (S256), `state` and `nonce`, through
 * openid-client. The person comes from the ID token's `personIdClaim`; the
 * role from `roleClaim` (a string or a list) through `roles`, the highest
 * match winning. No person or no matching role: 403, and no session.
 *
 * The provider is discovered on first use and kept. A plain-http issuer is
 * accepted only on a loopback address (a provider on this machine, as tests run).
 */
import type { FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { OidcConfig } from '../config/schema.ts';
import type { PendingOidc, SessionPrincipal } from '../store/consoleSessions.ts';

const RANK = { viewer: 1, approver: 2, admin: 3 } as const;
const CALLBACK_PATH = '/console/oidc/callback';

export type OidcOutcome =
  { ok: true; principal: SessionPrincipal } | { ok: false; status: number; message: string; log: string };

function loopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export class OidcSignIn {
  private configuration: Promise<client.Configuration> | undefined;
  private readonly secret: string | undefined;

  constructor(
    private readonly config: OidcConfig,
    env: NodeJS.ProcessEnv,
  ) {
    if (config.clientSecretEnv !== undefined) {
      this.secret = env[config.clientSecretEnv];
      if (!this.secret) {
        throw new Error(
          `auth.oidc.clientSecretEnv: environment variable ${config.clientSecretEnv} is not set`,
        );
      }
    }
    const issuer = new URL(config.issuer);
    if (issuer.protocol !== 'https:' && !loopbackHttp(issuer)) {
      throw new Error('auth.oidc.issuer: expected an https URL (plain http only on a loopback address)');
    }
  }

  /** What the sign-in button names: the provider's host. */
  get label(): string {
    return new URL(this.config.issuer).host;
  }

  private discover(): Promise<client.Configuration> {
    if (!this.configuration) {
      const issuer = new URL(this.config.issuer);
      const insecure = loopbackHttp(issuer);
      this.configuration = client
        .discovery(
          issuer,
          this.config.clientId,
          undefined,
          this.secret !== undefined ? client.ClientSecretBasic(this.secret) : client.None(),
          insecure ? { execute: [client.allowInsecureRequests] } : undefined,
        )
        .catch((err: unknown) => {
          this.configuration = undefined; // try again next time
          throw err;
        });
    }
    return this.configuration;
  }

  private redirectUri(request: FastifyRequest): string {
    return this.config.redirectUri ?? `${request.protocol}://${request.host}${CALLBACK_PATH}`;
  }

  /** The provider's authorization URL and the secrets to keep until the callback. */
  async start(request: FastifyRequest): Promise<{ url: string; pending: PendingOidc }> {
    const configuration = await this.discover();
    const codeVerifier = client.randomPKCECodeVerifier();
    const pending: PendingOidc = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier,
      redirectUri: this.redirectUri(request),
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: pending.redirectUri,
      scope: (this.config.scopes ?? ['openid', 'profile', 'email']).join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** Exchanges the code (checking state, nonce and PKCE) and maps the claims to a principal. */
  async finish(request: FastifyRequest, pending: PendingOidc): Promise<OidcOutcome> {
    const configuration = await this.discover();
    const current = new URL(pending.redirectUri);
    current.search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = { ...(tokens.claims() ?? {}) };
    } catch (err) {
      const error = err as Error & { error?: string; error_description?: string };
      return {
        ok: false,
        status: 401,
        message: `Single sign-on did not complete: ${error.error_description ?? error.error ?? error.message}`,
        log: error.error ?? error.message,
      };
    }
    return this.principalOf(claims);
  }

  /** The claims → a principal, or why not. */
  principalOf(claims: Record<string, unknown>): OidcOutcome {
    const personId = claims[this.config.personIdClaim];
    if (typeof personId !== 'string' || personId === '') {
      return {
        ok: false,
        status: 403,
        message: `Your sign-in has no ${this.config.personIdClaim}, so lastday cannot tell who you are.`,
        log: `no ${this.config.personIdClaim} claim`,
      };
    }
    const raw = claims[this.config.roleClaim];
    const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    let role: SessionPrincipal['role'] | undefined;
    for (const value of values) {
      // Own keys only: a group named `constructor` or `__proto__` is not a role.
      const mapped =
        typeof value === 'string' && Object.hasOwn(this.config.roles, value)
          ? this.config.roles[value]
          : undefined;
      if (mapped && (!role || RANK[mapped] > RANK[role])) role = mapped;
    }
    if (!role) {
      return {
        ok: false,
        status: 403,
        message: `You are signed in as ${personId}, but none of your ${this.config.roleClaim} gives a lastday role. Ask an administrator.`,
        log: `no role for ${personId}`,
      };
    }
    return { ok: true, principal: { name: `oidc:${personId}`, role, personId } };
  }
}
