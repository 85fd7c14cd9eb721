/**
 * Roster sync from an http(s) URL, against a real HTTP server started here
 * (node:http on a free port): JSON and CSV by extension and by content type,
 * the bearer token from `tokenEnv` (and not to another origin on a
 * redirect), 401 and 500 answers, a server that never answers or stalls
 * mid-body, and `Last-Modified` as the events' version.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RosterConfig, rosterSync } from '../../jobs/ops/rosterSync.ts';
import type { Runtime } from '../../src/app/runtime.ts';
import { eventually, testRuntime, testSettings } from '../helpers/lastday.ts';

const TOKEN = 'roster-token-7f3a';

interface Route {
  status?: number;
  type?: string;
  body?: string;
  lastModified?: string;
  /** Only with `Authorization: Bearer TOKEN`; 401 otherwise. */
  auth?: boolean;
  /** Send nothing at all, or headers and the start of the body only. */
  hang?: 'headers' | 'body';
  redirect?: string;
}

interface Hit {
  path: string;
  authorization: string | undefined;
}

/** A tiny HR export server: routes by path (query ignored), every request recorded. */
class RosterServer {
  readonly routes = new Map<string, Route>();
  readonly hits: Hit[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    this.hits.push({ path, authorization: req.headers.authorization });
    const route = this.routes.get(path);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    if (route.hang === 'headers') return;
    if (route.redirect) {
      res.writeHead(302, { location: route.redirect }).end();
      return;
    }
    if (route.auth && req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized');
      return;
    }
    const headers: Record<string, string> = {};
    if (route.type) headers['content-type'] = route.type;
    if (route.lastModified) headers['last-modified'] = route.lastModified;
    res.writeHead(route.status ?? 200, headers);
    if (route.hang === 'body') {
      res.write((route.body ?? '').slice(0, 5));
      return;
    }
    res.end(route.body ?? '');
  }
}

let rt: Runtime;
const hr = new RosterServer();
const other = new RosterServer();

beforeAll(async () => {
  await hr.start();
  await other.start();
  rt = await testRuntime(testSettings(), { roles: ['worker'] });
});
afterAll(async () => {
  await rt?.stop();
  await hr.close();
  await other.close();
});

let n = 0;
const row = (id: string, lastDay: string) => ({
  id,
  employment: 'contractor',
  timezone: 'Europe/Berlin',
  lastDay,
});
const csv = (rows: ReturnType<typeof row>[]) =>
  [
    'id,employment,timezone,lastDay',
    ...rows.map((r) => `${r.id},${r.employment},${r.timezone},${r.lastDay}`),
  ].join('\n');

function config(source: string, extra: Partial<RosterConfig> = {}): RosterConfig {
  return { ...rt.ctx.settings.config.crons.rosterSync, source, timeoutMs: 2_000, ...extra };
}

async function lastEventOf(id: string) {
  return eventually(async () => (await rt.ctx.people.get(id))?.lastEvent);
}

describe('roster sync from a URL', () => {
  it('reads JSON and CSV by extension, and by content type when the path has none', async () => {
    const p = `u${++n}`;
    hr.routes.set(`/${p}/roster.json`, { body: JSON.stringify([row(`${p}-j`, '2027-03-01')]) });
    hr.routes.set(`/${p}/roster.csv`, { body: csv([row(`${p}-c`, '2027-03-02')]) });
    hr.routes.set(`/${p}/export-csv`, {
      type: 'text/csv; charset=utf-8',
      body: csv([row(`${p}-t`, '2027-03-03')]),
    });
    hr.routes.set(`/${p}/export-appcsv`, {
      type: 'application/csv',
      body: csv([row(`${p}-a`, '2027-03-04')]),
    });
    hr.routes.set(`/${p}/export-json`, {
      type: 'application/json',
      body: JSON.stringify([row(`${p}-x`, '2027-03-05')]),
    });
    // `.csv` in the query string is not the path's extension.
    hr.routes.set(`/${p}/report`, {
      type: 'application/json',
      body: JSON.stringify([row(`${p}-q`, '2027-03-06')]),
    });

    const cases: [string, string, string][] = [
      [`/${p}/roster.json`, `${p}-j`, '2027-03-01'],
      [`/${p}/roster.csv`, `${p}-c`, '2027-03-02'],
      [`/${p}/export-csv`, `${p}-t`, '2027-03-03'],
      [`/${p}/export-appcsv`, `${p}-a`, '2027-03-04'],
      [`/${p}/export-json`, `${p}-x`, '2027-03-05'],
      [`/${p}/report?name=people.csv`, `${p}-q`, '2027-03-06'],
    ];
    for (const [path, id, lastDay] of cases) {
      const result = await rosterSync(rt.ctx, config(`${hr.url}${path}`));
      expect(result, path).toMatchObject({ rows: 1, added: 1, invalid: [], submitted: { accepted: 1 } });
      await eventually(async () => (await rt.ctx.people.get(id))?.lastDay === lastDay);
    }
  });

  it('sends the bearer token from tokenEnv, and reports 401 and 500 with the status', async () => {
    const p = `u${++n}`;
    hr.routes.set(`/${p}/secure.json`, { auth: true, body: JSON.stringify([row(`${p}-s`, '2027-04-01')]) });
    hr.routes.set(`/${p}/broken.json`, { status: 500, body: 'database on fire' });

    const ok = await rosterSync(rt.ctx, config(`${hr.url}/${p}/secure.json`, { tokenEnv: 'HR_TOKEN' }), {
      env: { HR_TOKEN: TOKEN },
    });
    expect(ok).toMatchObject({ added: 1, submitted: { accepted: 1 } });
    expect(hr.hits.filter((h) => h.path === `/${p}/secure.json`).map((h) => h.authorization)).toEqual([
      `Bearer ${TOKEN}`,
    ]);

    await expect(
      rosterSync(rt.ctx, config(`${hr.url}/${p}/secure.json`, { tokenEnv: 'HR_TOKEN' }), {
        env: { HR_TOKEN: 'wrong' },
      }),
    ).rejects.toThrow(/HTTP 401/);
    await expect(rosterSync(rt.ctx, config(`${hr.url}/${p}/broken.json`), { env: {} })).rejects.toThrow(
      /HTTP 500/,
    );
  });

  it('refuses to fetch without the token when tokenEnv names an unset variable', async () => {
    const p = `u${++n}`;
    hr.routes.set(`/${p}/secure.json`, { auth: true, body: '[]' });
    await expect(
      rosterSync(rt.ctx, config(`${hr.url}/${p}/secure.json`, { tokenEnv: 'HR_TOKEN_UNSET' }), { env: {} }),
    ).rejects.toThrow(/tokenEnv.*HR_TOKEN_UNSET/);
    expect(hr.hits.filter((h) => h.path === `/${p}/secure.json`)).toHaveLength(0);
  });

  it('does not send the token to another origin on a redirect', async () => {
    const p = `u${++n}`;
    other.routes.set(`/${p}/roster.json`, { body: JSON.stringify([row(`${p}-r`, '2027-05-01')]) });
    hr.routes.set(`/${p}/moved.json`, { redirect: `${other.url}/${p}/roster.json` });
    const result = await rosterSync(rt.ctx, config(`${hr.url}/${p}/moved.json`, { tokenEnv: 'HR_TOKEN' }), {
      env: { HR_TOKEN: TOKEN },
    });
    expect(result).toMatchObject({ added: 1 });
    expect(hr.hits.find((h) => h.path === `/${p}/moved.json`)?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(other.hits.find((h) => h.path === `/${p}/roster.json`)?.authorization).toBeUndefined();
  });

  it('times out on a server that never answers or stalls mid-body, naming the source but not its query', async () => {
    const p = `u${++n}`;
    hr.routes.set(`/${p}/silent.json`, { hang: 'headers' });
    hr.routes.set(`/${p}/stall.json`, { hang: 'body', body: JSON.stringify([row(`${p}-z`, '2027-06-01')]) });
    for (const path of [`/${p}/silent.json`, `/${p}/stall.json`]) {
      const err = await rosterSync(rt.ctx, config(`${hr.url}${path}?key=sekrit`, { timeoutMs: 200 }), {
        env: {},
      }).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/timed out after 200 ms/);
      expect((err as Error).message).toContain(`${hr.url}${path}`);
      expect((err as Error).message).not.toContain('sekrit');
    }
  });

  it('never names the credentials of a source URL that carries them, nor fetches it', async () => {
    const p = `u${++n}`;
    hr.routes.set(`/${p}/roster.json`, { body: '[]' });
    const withCredentials = hr.url.replace('http://', 'http://hr-export:r0ster-pw@');
    const err = await rosterSync(rt.ctx, config(`${withCredentials}/${p}/roster.json?key=sekrit`), {
      env: {},
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`${hr.url}/${p}/roster.json`);
    expect((err as Error).message).toMatch(/credentials/);
    expect((err as Error).message).not.toMatch(/r0ster-pw|hr-export|sekrit/);
    expect(hr.hits.filter((h) => h.path === `/${p}/roster.json`)).toHaveLength(0);
  });

  it('says what came back when a 200 is not a roster (an HTML login page)', async () => {
    const p = `u${++n}`;
    hr.routes.set(`/${p}/roster.json`, { type: 'text/html', body: '<html><body>Sign in</body></html>' });
    await expect(rosterSync(rt.ctx, config(`${hr.url}/${p}/roster.json`), { env: {} })).rejects.toThrow(
      /not JSON.*text\/html/,
    );
  });

  it('uses Last-Modified as the events’ version, so the same export twice submits nothing new', async () => {
    const p = `u${++n}`;
    const lastModified = 'Tue, 03 Nov 2026 08:00:00 GMT';
    hr.routes.set(`/${p}/roster.json`, {
      lastModified,
      type: 'application/json',
      body: JSON.stringify([row(`${p}-m`, '2027-07-01')]),
    });
    const first = await rosterSync(rt.ctx, config(`${hr.url}/${p}/roster.json`));
    expect(first.submitted.accepted).toBe(1);
    expect((await lastEventOf(`${p}-m`)).occurredAt).toBe('2026-11-03T08:00:00.000Z');
    const again = await rosterSync(rt.ctx, config(`${hr.url}/${p}/roster.json`));
    expect(again).toMatchObject({ added: 0, changed: 0, submitted: { accepted: 0, duplicate: 0 } });
  });

  it('never dates events after now from a Last-Modified in the future (it would block newer HR events)', async () => {
    const p = `u${++n}`;
    hr.routes.set(`/${p}/roster.json`, {
      lastModified: 'Fri, 01 Jan 2100 00:00:00 GMT',
      body: JSON.stringify([row(`${p}-f`, '2027-08-01')]),
    });
    const before = Date.now();
    await rosterSync(rt.ctx, config(`${hr.url}/${p}/roster.json`));
    const occurredAt = Date.parse((await lastEventOf(`${p}-f`)).occurredAt);
    expect(occurredAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(occurredAt).toBeLessThanOrEqual(Date.now());
  });
});
