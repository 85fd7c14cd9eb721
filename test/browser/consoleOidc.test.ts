/**
 * Console sign-in through OpenID Connect (contract `auth.oidc`) against a real
 * provider started here (oidc-provider on a free port, its development login
 * pages), driven by Chromium: authorization code + PKCE, the person from
 * `preferred_username`, the role from `groups` through `roles`; a person whose
 * groups match no role gets 403 and no session.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { launchChromium, loopbackContext } from '../helpers/browser.ts';
import { testRuntime, testSettings } from '../helpers/lastday.ts';

const SECRET_ENV = 'LASTDAY_TEST_OIDC_SECRET';
const CLIENT_SECRET = 'a-client-secret-for-the-test-provider-0123456789';
const GROUPS: Record<string, string[]> = {
  alice: ['secops', 'staff'],
  bob: ['marketing'],
};

let rt: Runtime;
let browser: Browser;
let idp: Server;
let issuer: string;

beforeAll(async () => {
  // The provider's port must be known before it exists (its issuer names it).
  const late: { provider?: Provider } = {};
  idp = createServer((req, res) => late.provider!.callback()(req, res));
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  process.env[SECRET_ENV] = CLIENT_SECRET;
  [rt, browser] = await Promise.all([
    testRuntime(
      testSettings({
        auth: {
          tokens: [],
          oidc: {
            issuer,
            clientId: 'lastday',
            clientSecretEnv: SECRET_ENV,
            personIdClaim: 'preferred_username',
            roleClaim: 'groups',
            roles: { 'lastday-admins': 'admin', secops: 'approver', it: 'viewer' },
            scopes: ['openid', 'profile', 'groups'],
          },
        },
      }),
      { roles: ['api'] },
    ),
    launchChromium(),
  ]);
  late.provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'lastday',
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${rt.url}/console/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'groups'],
    // The claims ride in the ID token, where lastday reads them.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        claims: async () => ({ sub, preferred_username: sub, name: sub, groups: GROUPS[sub] ?? [] }),
      };
    },
  });
}, 60_000);
afterAll(async () => {
  delete process.env[SECRET_ENV];
  await browser?.close();
  await rt?.stop();
  idp?.closeAllConnections();
  await new Promise((resolve) => idp?.close(resolve));
});

/** From the console's sign-in page through the provider's login and consent pages, back to lastday. */
async function signInAs(login: string): Promise<{ page: Page; callbackStatus: () => number | undefined }> {
  const page = await (await loopbackContext(browser, rt.url!)).newPage();
  let status: number | undefined;
  page.on('response', (res) => {
    if (res.url().startsWith(`${rt.url}/console/oidc/callback`)) status = res.status();
  });
  await page.goto('/console/login');
  await page.getByRole('link', { name: /sign in with your organisation/ }).click();
  await page.waitForURL(`${issuer}/**`);
  const authorize = new URL(page.url());
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${rt.url}/console**`);
  await page.waitForLoadState('load');
  expect(authorize.pathname).toMatch(/^\/interaction\//);
  return { page, callbackStatus: () => status };
}

describe('OIDC sign-in', () => {
  it(
    'signs a person in with the role their groups map to, through code + PKCE',
    { timeout: 60_000 },
    async () => {
      const { page, callbackStatus } = await signInAs('alice');
      expect(callbackStatus()).toBe(200);
      await page.waitForURL(`${rt.url}/console`);
      await expect(page.locator('header').textContent()).resolves.toContain('oidc:alice');
      await expect(page.locator('header').textContent()).resolves.toContain('(approver)');
      const cookies = await page.context().cookies(`${rt.url}/console`);
      const session = cookies.find((c) => c.name === 'lastday_session')!;
      expect(session.httpOnly).toBe(true);
      expect(session.sameSite).toBe('Strict');
      const keys = await rt.ctx.redis.keys(`${rt.ctx.prefix}:console:session:*`);
      expect(keys.length).toBeGreaterThan(0);
      const stored = JSON.parse((await rt.ctx.redis.get(keys[0]!))!);
      expect(stored.principal).toEqual({ name: 'oidc:alice', role: 'approver', personId: 'alice' });
      expect(stored.via).toBe('oidc');
      await page.context().close();
    },
  );

  it('refuses a person whose groups match no role: 403 and no session', { timeout: 60_000 }, async () => {
    const { page, callbackStatus } = await signInAs('bob');
    expect(callbackStatus()).toBe(403);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('gives a lastday role');
    const cookies = await page.context().cookies(`${rt.url}/console`);
    expect(cookies.find((c) => c.name === 'lastday_session')).toBeUndefined();
    const res = await page.request.get(`${rt.url}/console`, { maxRedirects: 0 });
    expect(res.status()).toBe(401);
    await page.context().close();
  });

  it('asks the provider for a PKCE S256 challenge and refuses a replayed callback', async () => {
    const start = await fetch(`${rt.url}/console/oidc/start`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const url = new URL(start.headers.get('location')!);
    expect(url.origin).toBe(issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.get('nonce')).toBeTruthy();
    // A callback without the pending sign-in's cookie (another browser, or a replay) opens nothing.
    const forged = await fetch(
      `${rt.url}/console/oidc/callback?code=x&state=${url.searchParams.get('state')}`,
      {
        redirect: 'manual',
      },
    );
    expect(forged.status).toBe(400);
    expect(forged.headers.getSetCookie().some((c) => c.startsWith('lastday_session='))).toBe(false);
  });
});
