/**
 * The 2017 incident, replayed against the whole process (`lastday start`),
 * driven over HTTP as an HR system, a tool and an ops person would; then the
 * CLI (an API client) against the same process, and `lastday demo` itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/app/embeddedRedis.ts';
import { sha256Hex } from '../../src/http/auth.ts';
import { type CallbackServer, startCallbackServer } from '../helpers/callbackServer.ts';
import { runCli } from '../helpers/cli.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { api as apiAt } from '../helpers/http.ts';
import {
  ACTION_SECRET,
  bearer,
  eventually,
  HR_SECRET,
  signedHeaders,
  testPrefix,
} from '../helpers/lastday.ts';

const BIN = new URL('../../bin/lastday.js', import.meta.url).pathname;
const T = { system: 'e2e-system', ops: 'e2e-ops', contractor: 'e2e-contractor', admin: 'e2e-admin' };
const CONTRACTOR = 'c-2017';

let dir: string;
let child: ChildProcess;
let base: string;
let cb: CallbackServer;
let env: NodeJS.ProcessEnv;

const api = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
  apiAt(base, method, path, body, headers);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lastday-e2e-'));
  const config = join(dir, 'lastday.json');
  writeFileSync(
    config,
    JSON.stringify({
      protectedTargets: ['account:@vip-*'],
      auth: {
        tokens: [
          { name: 'tools', role: 'system', sha256: sha256Hex(T.system) },
          { name: 'ops-alice', role: 'approver', personId: 'ops-alice', sha256: sha256Hex(T.ops) },
          { name: 'contractor', role: 'approver', personId: CONTRACTOR, sha256: sha256Hex(T.contractor) },
          { name: 'it-admin', role: 'admin', sha256: sha256Hex(T.admin) },
        ],
      },
    }),
  );
  const port = await freePort();
  env = {
    ...process.env,
    REDIS_URL: inject('redisUrl'),
    LASTDAY_PREFIX: testPrefix(),
    LASTDAY_CONFIG: config,
    LASTDAY_HR_WEBHOOK_SECRET: HR_SECRET,
    LASTDAY_ACTION_SECRET: ACTION_SECRET,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  cb = await startCallbackServer(ACTION_SECRET);
  child = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  base = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, 20_000);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await cb?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the 2017 incident over HTTP', () => {
  it('holds the leaver’s deactivation of a protected account; the callback never fires', async () => {
    const put = await api('PUT', `/v1/directory/users/${CONTRACTOR}`, bearer(T.admin), {
      active: true,
      grants: [
        { id: 'g-admin', system: 'accounts', role: 'admin', privileged: true },
        { id: 'g-agent', system: 'support-desk', role: 'agent', privileged: false },
      ],
    });
    expect(put.status).toBe(200);

    const soon = endingSoon(4, 'America/Los_Angeles');
    const event = JSON.stringify(
      hrEvent({
        personId: CONTRACTOR,
        lastDay: soon.lastDay,
        endTime: soon.endTime,
        timezone: soon.timezone,
      }),
    );
    const hr = await fetch(`${base}/v1/hr-events`, {
      method: 'POST',
      headers: signedHeaders(event),
      body: event,
    });
    expect(hr.status).toBe(202);

    // Admin grants reduced at once.
    await eventually(async () => {
      const u = await api('GET', `/v1/directory/users/${CONTRACTOR}`, bearer(T.ops));
      return u.body.grants.length === 1 && u.body.grants[0].id === 'g-agent';
    });

    // The contractor queues the deactivation to run after they leave.
    const executeAt = soon.endsAt.plus({ seconds: 1 }).toISO()!;
    const actionId = 'deactivate-vip';
    const reg = await api('POST', '/v1/actions', bearer(T.system), {
      actionId,
      initiatorId: CONTRACTOR,
      kind: 'account.deactivate',
      target: 'account:@vip-head-of-state',
      executeAt,
      callbackUrl: `${cb.url}/deactivate`,
    });
    expect(reg.status).toBe(201);
    expect(reg.body.state).toBe('held');
    expect((await api('POST', `/v1/actions/${actionId}/gate`, bearer(T.system))).body.decision).toBe('hold');
    const self = await api('POST', `/v1/actions/${actionId}/approve`, bearer(T.contractor));
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('self_approval');
    const holds = await api('GET', '/v1/holds', bearer(T.ops));
    expect(holds.body.holds.map((h: { actionId: string }) => h.actionId)).toEqual([actionId]);

    // Access revoked at the end of the day.
    await eventually(async () => {
      const u = await api('GET', `/v1/directory/users/${CONTRACTOR}`, bearer(T.ops));
      return u.body.active === false && u.body.grants.length === 0;
    }, 15_000);

    // executeAt passes: lastday asks the gate, holds, and calls nobody.
    await eventually(async () => {
      const a = await api('GET', `/v1/audit?actionId=${actionId}`, bearer(T.ops));
      return a.body.entries.some((e: { type: string }) => e.type === 'action.execution_skipped');
    }, 15_000);
    expect(cb.calls).toHaveLength(0);

    // The CLI, a client of the same API, sees the same hold; the contractor's own token cannot approve.
    const cliHolds = await runCli(['holds', '--json'], { LASTDAY_URL: base, LASTDAY_TOKEN: T.ops });
    expect(JSON.parse(cliHolds.stdout).holds[0].actionId).toBe(actionId);
    const cliSelf = await runCli(['approve', actionId], { LASTDAY_URL: base, LASTDAY_TOKEN: T.contractor });
    expect(cliSelf.code).toBe(1);
    expect(cliSelf.stderr).toMatch(/self_approval/);

    // A second person cancels.
    const cancel = await api('POST', `/v1/actions/${actionId}/cancel`, bearer(T.ops), { reason: 'leaver' });
    expect(cancel.body).toMatchObject({ state: 'cancelled', cancelledBy: 'ops-alice' });
    expect((await api('POST', `/v1/actions/${actionId}/gate`, bearer(T.system))).body.decision).toBe('deny');
    expect(cb.calls).toHaveLength(0);
    const verify = await api('GET', '/v1/audit/verify', bearer(T.ops));
    expect(verify.body.ok).toBe(true);
  });

  it('lastday cancel from the CLI, same rules, JSON out', async () => {
    const reg = await api('POST', '/v1/actions', bearer(T.system), {
      actionId: 'cli-cancel',
      initiatorId: 'someone',
      kind: 'repo.delete',
      target: 'account:@vip-x',
    });
    expect(reg.body.state).toBe('held');
    const out = await runCli(['cancel', 'cli-cancel', '--json'], { LASTDAY_URL: base, LASTDAY_TOKEN: T.ops });
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ state: 'cancelled', cancelledBy: 'ops-alice' });
  });
});

describe('npm run demo', () => {
  it('tells the story and exits 0', async () => {
    const { code, stdout, stderr } = await runCli(['demo', '--seconds', '3'], {});
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/state=held/);
    expect(stdout).toMatch(/403 self_approval/);
    expect(stdout).toMatch(/revoked at the end of the day/);
    expect(stdout).toMatch(/callbacks received: 0/);
    expect(stdout).toMatch(/cancelled/);
    expect(stdout).toMatch(/audit chain: intact/);
  }, 60_000);
});
