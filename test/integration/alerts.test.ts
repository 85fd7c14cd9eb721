/** Alerts reach the configured webhook, signed per Standard Webhooks; a failing endpoint never blocks. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Context } from '../../src/app/context.ts';
import { createContext } from '../../src/app/context.ts';
import { testLogger, testSettings } from '../helpers/lastday.ts';

const SECRET = `whsec_${Buffer.from('alert-secret-for-tests-0123456789').toString('base64')}`;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let status = 204;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    received.push({ headers: req.headers, body });
    res.writeHead(status).end();
  });
});
const contexts: Context[] = [];

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await new Promise((r) => server.close(r));
});

describe('alert webhook', () => {
  it('posts each alert signed, and survives an endpoint that fails', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
    const settings = testSettings({ alerts: { webhookUrl: url, secretEnv: 'ALERT_SECRET' } });
    const ctx = await createContext({
      settings,
      redisUrl: inject('redisUrl'),
      log: testLogger(),
      env: { ALERT_SECRET: SECRET },
    });
    contexts.push(ctx);
    await ctx.alerts.raise({ kind: 'milestone_overdue', message: 'revoke is late', personId: 'p-1' });
    expect(received).toHaveLength(1);
    const { headers, body } = received[0]!;
    const verified = new Webhook(SECRET).verify(body, {
      'webhook-id': String(headers['webhook-id']),
      'webhook-timestamp': String(headers['webhook-timestamp']),
      'webhook-signature': String(headers['webhook-signature']),
    });
    expect(verified).toMatchObject({
      type: 'alert.milestone_overdue',
      personId: 'p-1',
      message: 'revoke is late',
    });

    status = 500;
    await expect(ctx.alerts.raise({ kind: 'drift', message: 'x' })).resolves.toBeUndefined();
    const audit = await ctx.audit.list({});
    expect(audit.map((e) => e.type)).toEqual(['alert.milestone_overdue', 'alert.drift']);
  });

  it('refuses to start when the secret variable is missing', async () => {
    const settings = testSettings({
      alerts: { webhookUrl: 'http://127.0.0.1:9/x', secretEnv: 'NOPE_SECRET' },
    });
    await expect(
      createContext({ settings, redisUrl: inject('redisUrl'), log: testLogger(), env: {} }),
    ).rejects.toThrow(/alerts\.secretEnv: environment variable NOPE_SECRET is not set/);
  });
});
