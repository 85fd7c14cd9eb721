/**
 * `lastday demo` (`npm run demo`): the 2017 incident, replayed in about a
 * minute. A contractor with admin grants, on their last day, queues the
 * deactivation of a head of state's account to run after they leave. lastday
 * starts in-process on a throwaway embedded Redis, and every step is driven
 * over its HTTP API, as a tool and an ops person would.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Runtime } from '../../app/runtime.ts';
import type { CliIo } from '../io.ts';

const CONTRACTOR = 'c-2017';
const OPS = 'ops-alice';
const TARGET = 'account:@vip-head-of-state';
const ZONE = 'America/Los_Angeles';

export function demoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('replay the 2017 incident against an in-process lastday (about a minute)')
    .option('--seconds <n>', 'seconds until the contractor’s day ends', '60')
    .option('--verbose', 'show lastday’s own logs on stderr')
    .action(async (opts: { seconds: string; verbose?: boolean }) => {
      const seconds = Math.max(3, Math.min(3600, Number(opts.seconds) || 60));
      await runDemo(io, seconds, Boolean(opts.verbose));
    });
}

async function runDemo(io: CliIo, seconds: number, verbose: boolean): Promise<void> {
  const [
    { DateTime },
    { Webhook },
    { startEmbeddedRedis },
    { createLogger },
    { startRuntime },
    { envSchema },
    { parseConfig },
    { sha256Hex },
  ] = await Promise.all([
    import('luxon'),
    import('standardwebhooks'),
    import('../../app/embeddedRedis.ts'),
    import('../../telemetry/logger.ts'),
    import('../../app/runtime.ts'),
    import('../../config/env.ts'),
    import('../../config/load.ts'),
    import('../../http/auth.ts'),
  ]);
  const t0 = Date.now();
  const say = (text: string) => {
    const at = ((Date.now() - t0) / 1000).toFixed(1).padStart(5);
    io.stdout.write(`[+${at}s] ${text}\n`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'lastday-demo-'));
  const redis = await startEmbeddedRedis(dir, { persistent: false });
  const callback = await startCallbackReceiver();
  const secret = () => `whsec_${randomBytes(24).toString('base64')}`;
  const token = () => `ld_${randomBytes(18).toString('base64url')}`;
  const tokens = { system: token(), ops: token(), contractor: token(), admin: token() };
  const env = envSchema.parse({
    LASTDAY_PREFIX: 'lastday-demo',
    LASTDAY_HR_WEBHOOK_SECRET: secret(),
    LASTDAY_ACTION_SECRET: secret(),
    LOG_LEVEL: verbose ? 'info' : 'silent',
  });
  const config = parseConfig({
    protectedTargets: ['account:@vip-*'],
    auth: {
      tokens: [
        { name: 'tools', role: 'system', sha256: sha256Hex(tokens.system) },
        { name: OPS, role: 'approver', personId: OPS, sha256: sha256Hex(tokens.ops) },
        { name: CONTRACTOR, role: 'approver', personId: CONTRACTOR, sha256: sha256Hex(tokens.contractor) },
        { name: 'it-admin', role: 'admin', sha256: sha256Hex(tokens.admin) },
      ],
    },
  });
  callback.secret = env.LASTDAY_ACTION_SECRET!;
  let runtime: Runtime | undefined;
  try {
    runtime = await startRuntime({
      settings: { env, config },
      redisUrl: redis.url,
      log: createLogger(env.LOG_LEVEL, io.stderr),
      listen: { host: '127.0.0.1', port: 0 },
    });
    const rt = runtime;
    const api = client(rt.url!);
    const as = (t: string) => ({ authorization: `Bearer ${t}` });
    say(`lastday is running at ${rt.url} on an embedded Redis (${redis.url}); protected: account:@vip-*`);

    // 1. A contractor with admin grants.
    await api('PUT', `/v1/directory/users/${CONTRACTOR}`, as(tokens.admin), {
      active: true,
      grants: [
        { id: 'g-admin', system: 'accounts', role: 'admin', privileged: true },
        { id: 'g-support', system: 'support-desk', role: 'agent', privileged: false },
      ],
    });
    say(`${CONTRACTOR}, a contractor, holds accounts/admin (privileged) and support-desk/agent`);

    // 2. HR says: today is the last day, ending `seconds` from now.
    const end = DateTime.now().setZone(ZONE).plus({ seconds }).startOf('second');
    const event = {
      eventId: `demo-${Date.now()}`,
      type: 'contract.ending',
      occurredAt: new Date().toISOString(),
      person: {
        id: CONTRACTOR,
        email: 'c-2017@example.com',
        name: 'Sam Contractor',
        employment: 'contractor',
        timezone: ZONE,
      },
      lastDay: end.toISODate(),
      endTime: end.toFormat('HH:mm:ss'),
      reason: 'contract ends',
    };
    const body = JSON.stringify(event);
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const now = new Date();
    const hr = await fetch(`${rt.url}/v1/hr-events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(env.LASTDAY_HR_WEBHOOK_SECRET!).sign(id, now, body),
      },
      body,
    });
    say(
      `HR: ${CONTRACTOR}'s last day is today, ${event.lastDay}, ending ${event.endTime} ${ZONE} (in ${seconds} s) → ${hr.status}`,
    );

    // 3. reduce (and freeze: the last day began at midnight) run at once.
    const person = await until(async () => {
      const p = await api('GET', `/v1/people/${CONTRACTOR}`, as(tokens.ops));
      return p.body?.status === 'frozen' ? p.body : undefined;
    }, 20_000);
    const grants = await api('GET', `/v1/directory/users/${CONTRACTOR}`, as(tokens.ops));
    say(
      `lastday: status ${person.status}; privileged grants reduced at once → left: ${grants.body.grants
        .map((g: { system: string; role: string }) => `${g.system}/${g.role}`)
        .join(', ')}`,
    );

    // 4. The contractor queues the deactivation to run after they leave.
    const executeAt = new Date(Date.parse(person.endsAt) + 5_000).toISOString();
    const actionId = 'deactivate-vip-2017';
    const reg = await api('POST', '/v1/actions', as(tokens.system), {
      actionId,
      initiatorId: CONTRACTOR,
      kind: 'account.deactivate',
      target: TARGET,
      executeAt,
      callbackUrl: `${callback.url}/deactivate`,
      payload: { account: '@vip-head-of-state', note: 'last day' },
    });
    say(`${CONTRACTOR}'s tool registers account.deactivate of ${TARGET}, to run at ${executeAt}`);
    say(`lastday: ${reg.status} state=${reg.body.state}: ${reg.body.reason}`);

    const gate = await api('POST', `/v1/actions/${actionId}/gate`, as(tokens.system));
    say(`the tool asks the gate: ${gate.body.decision} (${gate.body.state})`);

    const self = await api('POST', `/v1/actions/${actionId}/approve`, as(tokens.contractor));
    say(`${CONTRACTOR} tries to approve it themself → ${self.status} ${self.body.error.code}`);

    // 5. End of the day: access revoked.
    say(`waiting for the end of ${CONTRACTOR}'s day (${person.endsAt}) …`);
    await until(
      async () => {
        const u = await api('GET', `/v1/directory/users/${CONTRACTOR}`, as(tokens.ops));
        return u.body?.active === false ? u.body : undefined;
      },
      (seconds + 30) * 1000,
    );
    say(`lastday: ${CONTRACTOR} revoked at the end of the day: directory user disabled, no grants left`);

    // 6. executeAt passes: the gate holds, the callback never fires.
    const skipped = await until(async () => {
      const a = await api('GET', `/v1/audit?actionId=${actionId}`, as(tokens.ops));
      return a.body?.entries?.find((e: { type: string }) => e.type === 'action.execution_skipped');
    }, 60_000);
    say(
      `executeAt passed: lastday asked the gate → ${skipped.details.decision} (${skipped.details.state}); callbacks received: ${callback.calls}`,
    );

    // 7. A second person decides.
    const cancel = await api('POST', `/v1/actions/${actionId}/cancel`, as(tokens.ops), {
      reason: 'queued by a leaver against a protected account',
    });
    say(`${OPS} cancels it → ${cancel.body.state} (${cancel.body.reason})`);

    const audit = await api('GET', `/v1/audit?actionId=${actionId}`, as(tokens.ops));
    say(
      `audit of ${actionId}: ${audit.body.entries
        .map((e: { type: string; actor: string }) => `${e.type} by ${e.actor}`)
        .join(' → ')}`,
    );
    const verify = await api('GET', '/v1/audit/verify', as(tokens.ops));
    say(`audit chain: ${verify.body.ok ? 'intact' : 'BROKEN'} (${verify.body.entries} entries)`);
    say(
      callback.calls === 0
        ? 'the head of state keeps their account. Done.'
        : `UNEXPECTED: the callback fired ${callback.calls} time(s)`,
    );
    if (callback.calls !== 0 || !verify.body.ok) io.exitCode = 1;
  } finally {
    await runtime?.stop();
    await callback.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function client(base: string) {
  return async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`demo: a step did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The tool's callback endpoint: it would deactivate the account; here it only counts. */
async function startCallbackReceiver() {
  const state = { calls: 0, secret: '' };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.calls++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
