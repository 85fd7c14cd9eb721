/**
 * The webhook connector's `verify` against a peer that answers 2xx with a
 * body that is no receiver answer (a proxy's HTML page): that is a read that
 * failed, not "inactive, nothing left".
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../src/connectors/connector.ts';
import { WebhookConnector } from '../../src/connectors/webhook.ts';

const SECRET = `whsec_${Buffer.from('lastday-test-halfway-secret-012345').toString('base64')}`;

let server: Server;
let url: string;
let body = '';
let contentType = 'text/html';
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': contentType }).end(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
});

describe('webhook verify against a peer that answers halfway', () => {
  it('fails a verify answered 200 with a body that is not a JSON object', async () => {
    const c = new WebhookConnector(
      { name: 'tools', url, timeoutMs: 2_000, concurrency: 2 },
      { secret: SECRET, retry: { baseDelayMs: 5, maxDelayMs: 20 } },
    );
    for (const b of ['<html><body>Sign in</body></html>', '[]', '"ok"']) {
      body = b;
      const err = await c.read({ id: 'p-1' }).catch((e: unknown) => e);
      expect(err, b).toBeInstanceOf(ConnectorError);
      expect(String(err)).not.toContain('Sign in');
    }
    contentType = 'application/json';
    for (const b of ['[]', '"ok"', '42']) {
      body = b;
      expect(await c.read({ id: 'p-1' }).catch((e: unknown) => e), b).toBeInstanceOf(ConnectorError);
    }
    // The protocol's empty answer still means nothing is left, and so does a
    // minimal receiver's bare text acknowledgement.
    body = '';
    expect(await c.read({ id: 'p-1' })).toEqual({ exists: true, active: false, grants: [] });
    contentType = 'text/plain';
    body = 'OK';
    expect(await c.read({ id: 'p-1' })).toEqual({ exists: true, active: false, grants: [] });
  });
});
