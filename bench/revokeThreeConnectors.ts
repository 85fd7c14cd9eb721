/**
 * Revoke time per person across three connectors (directory, SCIM, webhook):
 * a private redis-server, the test SCIM server (scimmy) and webhook receiver,
 * and a whole lastday runtime. N people end at the same instant; for each we
 * take the `revoke` milestone's lateness (milestone.done lateMs: done minus
 * due, all three connectors included) and report p50/p95/p99/max.
 *
 *   npx tsx bench/revokeThreeConnectors.ts [people=100] [scimConcurrency=4] [spreadMs=0] [only]
 *
 * `spreadMs` spreads the end instants over that many milliseconds instead of
 * one burst; `only` keeps the directory plus the listed remote connectors
 * (`idp`, `tools`, comma-separated; `none` for the directory alone), to see
 * what each costs. Results also go to
 * bench/results/revoke-<timestamp>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createLogger } from '../src/telemetry/logger.ts';
import { startRuntime } from '../src/app/runtime.ts';
import { envSchema } from '../src/config/env.ts';
import { parseConfig } from '../src/config/load.ts';
import { endingSoon, hrEvent } from '../test/helpers/events.ts';
import { startTestRedis } from '../test/helpers/redisServer.ts';
import { startScimServer } from '../test/helpers/scimServer.ts';
import { startWebhookReceiver } from '../test/helpers/webhookReceiver.ts';
import { Webhook } from 'standardwebhooks';
import { benchArgs } from './lib/args.ts';
import { percentile } from './lib/stats.ts';

const args = benchArgs();
const people = args.number(0, 100);
const scimConcurrency = args.number(1, 4);
const spreadMs = args.number(2, 0);
const only = args.text(3);
const HR_SECRET = `whsec_${Buffer.from('bench-hr-secret-0123456789abcdef').toString('base64')}`;
const HOOK_SECRET = `whsec_${Buffer.from('bench-hook-secret-0123456789abcd').toString('base64')}`;

async function main(): Promise<void> {
  const redis = await startTestRedis();
  const scim = await startScimServer();
  const receiver = await startWebhookReceiver(HOOK_SECRET);
  const remote = [
    {
      type: 'scim',
      name: 'idp',
      baseUrl: scim.url,
      tokenEnv: 'IDP_TOKEN',
      privilegedGroups: ['*-admins'],
      concurrency: scimConcurrency,
    },
    { type: 'webhook', name: 'tools', url: receiver.url, secretEnv: 'TOOLS_SECRET' },
  ];
  const settings = {
    env: envSchema.parse({
      LASTDAY_PREFIX: 'bench',
      LASTDAY_HR_WEBHOOK_SECRET: HR_SECRET,
      LOG_LEVEL: 'silent',
    }),
    config: parseConfig({
      policy: { verifyAfterMinutes: 60 },
      connectors: [{ type: 'directory' }, ...remote.filter((c) => !only || only.split(',').includes(c.name))],
    }),
  };
  const rt = await startRuntime({
    settings,
    redisUrl: redis.url,
    log: createLogger('silent'),
    listen: { host: '127.0.0.1', port: 0 },
    env: { IDP_TOKEN: scim.token, TOOLS_SECRET: HOOK_SECRET },
  });
  try {
    const ids = Array.from({ length: people }, (_, i) => `bench-${i}`);
    const now = new Date().toISOString();
    for (const id of ids) {
      await rt.ctx.directory.put(
        id,
        {
          active: true,
          grants: [
            { id: 'admin', system: 'cms', role: 'admin', privileged: true },
            { id: 'read', system: 'cms', role: 'reader', privileged: false },
          ],
        },
        now,
      );
      const user = scim.addUser({ userName: id });
      scim.addGroup(`${id}-admins`, [user.id]);
      scim.addGroup(`${id}-staff`, [user.id]);
      receiver.access.set(id, { active: true, grants: [{ id: 'crm', role: 'user', privileged: false }] });
    }
    // End instants far enough ahead that intake and reduce are finished first.
    const base = Date.now() + 8_000 + people * 20;
    const signer = new Webhook(HR_SECRET);
    await Promise.all(
      ids.map(async (id, i) => {
        const soon = endingSoon(0, 'Europe/Berlin', new Date(base + (spreadMs * i) / people));
        const body = JSON.stringify(
          hrEvent({ personId: id, lastDay: soon.lastDay, endTime: soon.endTime, timezone: soon.timezone }),
        );
        const msgId = `msg_bench_${i}`;
        const at = new Date();
        const res = await fetch(`${rt.url}/v1/hr-events`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': msgId,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': signer.sign(msgId, at, body),
          },
          body,
        });
        if (res.status !== 202) throw new Error(`event refused: ${res.status}`);
      }),
    );
    const deadline = base + spreadMs + 120_000;
    const late = new Map<string, number>();
    while (late.size < people && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      for (const id of ids) {
        if (late.has(id)) continue;
        const entries = await rt.ctx.audit.list({ personId: id, limit: 200 });
        const done = entries.find((e) => e.type === 'milestone.done' && e.details.milestone === 'revoke');
        if (done) late.set(id, Number(done.details.lateMs));
      }
    }
    const values = [...late.values()].sort((a, b) => a - b);
    const scimDisabled = [...scim.store.users.values()].filter((u) => !u.active).length;
    const result = {
      people,
      connectors: settings.config.connectors.map((c) => c.name),
      scimConcurrency,
      spreadMs,
      revoked: values.length,
      scimDisabled,
      webhookRevokes: receiver.calls.filter((c) => c.effect === 'revoke' && c.applied).length,
      revokeLatenessMs: {
        p50: percentile(values, 50),
        p95: percentile(values, 95),
        p99: percentile(values, 99),
        max: values.at(-1),
        mean: Math.round(values.reduce((a, b) => a + b, 0) / values.length),
      },
      scimRequests: scim.requests.length,
      /** Time the SCIM test server itself spent per request (its own cost, not lastday's). */
      scimServerMsPerRequest: {
        mean: Math.round(scim.responses.reduce((a, r) => a + r.ms, 0) / scim.responses.length),
        p99: Math.round(
          percentile(
            scim.responses.map((r) => r.ms).sort((a, b) => a - b),
            99,
          ),
        ),
      },
      node: process.version,
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(`bench/results/revoke-${Date.now()}.json`, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await rt.stop();
    await scim.close();
    await receiver.close();
    await redis.stop();
  }
}

await main();
