/**
 * Issue #9 item 10c: what a managed action's callback answers must not reach
 * the audit (which every viewer reads) beyond its status and a fixed reason.
 * A `system` token chooses the URL, so a stored body would let it read any URL
 * lastday can reach. The same holds for the URL's query and credentials.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { client, registerAction, settings } from '../helpers/guard.ts';
import { bearer, eventually, TOKENS, testRuntime } from '../helpers/lastday.ts';

const SECRET_BODY = 'AccessKeyId=AKIAEXAMPLE SecretAccessKey=wJalrXUtnFEMI/K7MDENG';

describe('callback answers in the audit', () => {
  let rt: Runtime;
  let server: Server;
  let url: string;
  let api: ReturnType<typeof client>;
  const viewer = bearer(TOKENS.viewer);

  beforeAll(async () => {
    // An internal service that refuses with a body full of secrets, or accepts.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const refuse = req.url?.startsWith('/refuse');
        res.writeHead(refuse ? 403 : 200, { 'content-type': 'text/plain' }).end(refuse ? SECRET_BODY : 'ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    rt = await testRuntime(settings(), { workers: { callbackRetryBaseMs: 50 } });
    api = client(rt);
  });
  afterAll(async () => {
    await rt?.stop();
    await new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  });

  const register = (actionId: string, callbackUrl: string) =>
    registerAction(rt, actionId, { executeAt: new Date(Date.now() + 100).toISOString(), callbackUrl });

  const auditOf = async (actionId: string) =>
    (await api('GET', `/v1/audit?actionId=${encodeURIComponent(actionId)}`, undefined, viewer)).body as {
      entries: { type: string; details: Record<string, unknown> }[];
    };

  it('keeps only the status and its reason phrase of a refused callback', async () => {
    expect((await register('cb-refused-1', `${url}/refuse/metadata`)).status).toBe(201);
    const refused = await eventually(async () =>
      (await auditOf('cb-refused-1')).entries.find((e) => e.type === 'action.callback_refused'),
    );
    expect(refused.details).toEqual({ status: 403, reason: 'Forbidden', attempt: 1 });
    const everything = JSON.stringify(await auditOf('cb-refused-1'));
    expect(everything).not.toContain('AKIAEXAMPLE');
    expect(everything).not.toContain('SecretAccessKey');
  });

  it('records an executed callback URL without its query', async () => {
    expect((await register('cb-query-1', `${url}/accept?token=sekrit-123#frag`)).status).toBe(201);
    const executed = await eventually(async () =>
      (await auditOf('cb-query-1')).entries.find((e) => e.type === 'action.executed'),
    );
    expect(executed.details.callbackUrl).toBe(`${url}/accept`);
    expect(JSON.stringify(executed)).not.toContain('sekrit-123');
  });
});
