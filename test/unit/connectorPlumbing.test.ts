/**
 * The small pieces under the connectors: retry loop, Retry-After, semaphore,
 * globs, filters, secrets, and what connector errors may say.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.ts';
import { ConnectorError } from '../../src/connectors/connector.ts';
import { globMatcher } from '../../src/domain/glob.ts';
import { HttpClient, parseRetryAfter, RetryableHttpError, safeUrl } from '../../src/connectors/httpClient.ts';
import { createConnectors } from '../../src/connectors/registry.ts';
import { eqFilter, memberPath } from '../../src/connectors/scimFilter.ts';
import { Semaphore } from '../../src/connectors/semaphore.ts';
import { allSettledOrThrow } from '../../src/connectors/settled.ts';
import { testLogger, testSettings } from '../helpers/lastday.ts';

function client(sleeps: number[] = [], random = () => 0.5) {
  return new HttpClient({
    name: 't',
    timeoutMs: 1_000,
    concurrency: 2,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random,
  });
}

describe('HttpClient.withRetries', () => {
  it('retries retryable errors a bounded number of times, then throws the last one', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const err = await client(sleeps)
      .withRetries(async () => {
        calls++;
        throw new RetryableHttpError('503', 503);
      })
      .catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(sleeps).toEqual([200, 400]);
    expect(err).toMatchObject({ retryable: true, status: 503 });
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    await expect(
      client().withRetries(async () => {
        calls++;
        throw new ConnectorError('401', false, 401);
      }),
    ).rejects.toMatchObject({ status: 401 });
    expect(calls).toBe(1);
  });

  it('honours Retry-After when it is longer than the backoff, and gives up in-call when it is too long', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    await client(sleeps).withRetries(async () => {
      if (++calls === 1) throw new RetryableHttpError('429', 429, 3_000);
      return 'ok';
    });
    expect(sleeps).toEqual([3_000]);
    calls = 0;
    await expect(
      client().withRetries(async () => {
        calls++;
        throw new RetryableHttpError('429', 429, 3_600_000);
      }),
    ).rejects.toMatchObject({ status: 429, retryable: true });
    expect(calls).toBe(1);
  });

  it('asks before each retry whether the last try took effect after all', async () => {
    let writes = 0;
    const value = await client().withRetries(
      async () => {
        writes++;
        throw new RetryableHttpError('504', 504);
      },
      async () => ({ done: true, value: 'applied' }),
    );
    expect(value).toBe('applied');
    expect(writes).toBe(1);
  });

  it('jitters the backoff between half and one and a half of the base, capped', () => {
    expect(client([], () => 0).backoff(1)).toBe(100);
    expect(client([], () => 0.999).backoff(1)).toBe(300);
    expect(client([], () => 0.5).backoff(20)).toBe(5_000);
  });
});

describe('HttpClient.send answer bodies', () => {
  it('reads an answer as Response.text() does, and refuses one over the limit, declared or streamed', async () => {
    const MB = 1024 * 1024;
    const server = createServer((req, res) => {
      if (req.url === '/bom') {
        res.end('\ufeff{"ok":true}');
        return;
      }
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(3 * MB) });
        res.end(Buffer.alloc(3 * MB, 0x61));
        return;
      }
      // Chunked, no length: 64 KB at a time until the client stops reading.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const http = new HttpClient({ name: 't', timeoutMs: 5_000, concurrency: 2, maxBodyBytes: MB });
      const bom = await http.send({ method: 'GET', url: `${base}/bom` });
      expect(bom.text).toBe('{"ok":true}');
      expect(bom.json).toEqual({ ok: true });
      for (const path of ['/declared', '/streamed']) {
        const err = await http.send({ method: 'GET', url: `${base}${path}` }).catch((e: unknown) => e);
        expect(err, path).toBeInstanceOf(ConnectorError);
        expect((err as ConnectorError).retryable, path).toBe(false);
        expect(String(err), path).toContain(`over ${MB} bytes`);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('allSettledOrThrow', () => {
  it('lets every call land before it throws the first failure', async () => {
    let landed = false;
    const slow = new Promise<number>((resolve) =>
      setTimeout(() => {
        landed = true;
        resolve(2);
      }, 20),
    );
    const err = await allSettledOrThrow([Promise.reject(new Error('first')), slow]).catch((e: unknown) => e);
    expect((err as Error).message).toBe('first');
    expect(landed).toBe(true);
    expect(await allSettledOrThrow([Promise.resolve(1), Promise.resolve(2)])).toEqual([1, 2]);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('Semaphore', () => {
  it('holds at most `limit` at once and hands permits on in order', async () => {
    const s = new Semaphore(2);
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        s.run(async () => {
          peak = Math.max(peak, s.inUse);
          await new Promise((r) => setTimeout(r, 5));
          order.push(i);
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.inUse).toBe(0);
  });

  it('releases the permit when the holder throws', async () => {
    const s = new Semaphore(1);
    await expect(s.run(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await s.run(async () => 'next')).toBe('next');
  });
});

describe('globMatcher', () => {
  it('matches * and ? case-insensitively and nothing else as special', () => {
    const m = globMatcher(['*-admins', 'prod-??', 'a.b(c)'], { caseInsensitive: true });
    expect(m('CMS-Admins')).toBe(true);
    expect(m('prod-eu')).toBe(true);
    expect(m('prod-eu1')).toBe(false);
    expect(m('a.b(c)')).toBe(true);
    expect(m('aXb(c)')).toBe(false);
    expect(globMatcher([])('anything')).toBe(false);
  });
});

describe('SCIM filters', () => {
  it('quotes values as JSON strings (RFC 7644)', () => {
    expect(eqFilter('userName', 'plain')).toBe('userName eq "plain"');
    expect(eqFilter('userName', 'a"b\\c')).toBe('userName eq "a\\"b\\\\c"');
    expect(memberPath('u"1')).toBe('members[value eq "u\\"1"]');
  });
});

describe('createConnectors', () => {
  const deps = (env: Record<string, string>) => ({
    directory: {} as never,
    now: () => new Date(),
    env,
    log: testLogger(),
  });
  const config = testSettings({
    connectors: [
      { type: 'scim', name: 'idp', baseUrl: 'https://idp.example/scim/v2', tokenEnv: 'IDP_TOKEN' },
      { type: 'webhook', name: 'tools', url: 'https://tools.example/hook', secretEnv: 'TOOLS_SECRET' },
    ],
  }).config.connectors;

  it('names every missing or malformed secret at once, without echoing values', () => {
    const err = (() => {
      try {
        createConnectors(config, deps({ TOOLS_SECRET: 'not-a-secret' }));
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.lines).toEqual([
      'connectors.0.tokenEnv: environment variable IDP_TOKEN is not set',
      'connectors.1.secretEnv: TOOLS_SECRET is not a Standard Webhooks secret (whsec_ followed by base64)',
    ]);
    expect(err!.message).not.toContain('not-a-secret');
  });

  it('refuses a SCIM baseUrl that already ends in /Users', () => {
    expect(() =>
      testSettings({
        connectors: [
          { type: 'scim', name: 'idp', baseUrl: 'https://idp.example/scim/v2/Users', tokenEnv: 'T' },
        ],
      }),
    ).toThrow(/ending before \/Users/);
  });

  it('builds the connectors when the secrets are there, applying config defaults', () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const built = createConnectors(config, deps({ IDP_TOKEN: 't', TOOLS_SECRET: secret }));
    expect(built.map((c) => [c.type, c.name])).toEqual([
      ['scim', 'idp'],
      ['webhook', 'tools'],
    ]);
  });
});

describe('connector error messages', () => {
  const TOKEN = 'sk-live-0123456789abcdef';
  /** A server that answers every request with `status` and a body echoing the Authorization header. */
  async function echoing(status: number) {
    const server = createServer((req, res) => {
      req.resume();
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ detail: `bad header ${req.headers.authorization}; see /srv/app.py:12` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }

  it('say method, URL without query, status and reason phrase; never body bytes or credentials', async () => {
    for (const status of [500, 401]) {
      const server = await echoing(status);
      try {
        const http = new HttpClient({ name: 'idp', timeoutMs: 2_000, concurrency: 1 });
        const err = (await http
          .send({
            method: 'GET',
            url: `${server.url}/scim/v2/Users?filter=userName%20eq%20%22alice%22`,
            headers: { authorization: `Bearer ${TOKEN}` },
          })
          .catch((e: unknown) => e)) as ConnectorError;
        expect(err).toBeInstanceOf(ConnectorError);
        expect(err.message).toBe(
          status === 500
            ? `idp: GET ${server.url}/scim/v2/Users?… answered 500 Internal Server Error`
            : `idp: GET ${server.url}/scim/v2/Users?… refused our credentials (401 Unauthorized)`,
        );
        // What the server said is kept for the log, with our credentials blanked.
        expect(err.detail).toBe('bad header [redacted]; see /srv/app.py:12');
      } finally {
        await server.close();
      }
    }
  });

  it('drop credentials and the query from URLs', () => {
    expect(safeUrl('https://user:pa55@idp.example/scim/v2/Users?filter=x#f')).toBe(
      'https://idp.example/scim/v2/Users?…',
    );
    expect(safeUrl('not a url')).toBe('(invalid url)');
  });
});
