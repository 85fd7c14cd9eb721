/**
 * The `lastday` CLI, each command run in-process (`runCli`: argv, env, captured
 * streams, exit code) against real peers: a real lastday API on a free port
 * for the verbs that are API clients, the test Redis for `queues` and `run`.
 * One test runs the real bin as a process (the smoke test at the end).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../../jobs/hrEvent.ts';
import { OPS_TASKS } from '../../jobs/ops/tasks.ts';
import type { Context } from '../../src/app/context.ts';
import { freePort } from '../../src/app/embeddedRedis.ts';
import { ROLE_NAMES, type Runtime } from '../../src/app/runtime.ts';
import { ApiClient, ApiUnreachableError } from '../../src/cli/apiClient.ts';
import { RUN_TASKS_HELP } from '../../src/cli/commands/run.ts';
import { START_ROLES_HELP } from '../../src/cli/commands/start.ts';
import { ROLES } from '../../src/config/schema.ts';
import type { HrEvent } from '../../src/domain/hrEvent.ts';
import { sha256Hex } from '../../src/http/auth.ts';
import { runCli, runCliProcess } from '../helpers/cli.ts';
import { hrEvent } from '../helpers/events.ts';
import { api, postEvent } from '../helpers/http.ts';
import { bearer, eventually, TOKENS, testContext, testRuntime, testSettings } from '../helpers/lastday.ts';

const T = {
  ...TOKENS,
  approver2: 'approver-2-token',
  departing: 'departing-approver-token',
};
const settings = testSettings({
  protectedTargets: ['account:@vip-*'],
  auth: {
    tokens: [
      { name: 'viewer', role: 'viewer', sha256: sha256Hex(T.viewer) },
      { name: 'approver', role: 'approver', personId: 'approver-1', sha256: sha256Hex(T.approver) },
      { name: 'approver-2', role: 'approver', personId: 'approver-2', sha256: sha256Hex(T.approver2) },
      { name: 'departing', role: 'approver', personId: 'dep-1', sha256: sha256Hex(T.departing) },
      { name: 'system', role: 'system', sha256: sha256Hex(T.system) },
    ],
  },
});
const WEIRD = 'we/ird?#%:id';
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

let rt: Runtime;
/** The environment of an API verb: where the API is, and whose token. */
const as = (token?: string) => ({ LASTDAY_URL: rt.url!, ...(token ? { LASTDAY_TOKEN: token } : {}) });
const json = async (args: string[], env: Record<string, string>, expectedCode = 0) => {
  const r = await runCli([...args, '--json'], env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(expectedCode);
  return JSON.parse(r.stdout);
};
const register = async (actionId: string, initiatorId: string) => {
  const res = await api(
    rt.url!,
    'POST',
    '/v1/actions',
    { actionId, initiatorId, kind: 'account.deactivate', target: `account:@vip-${actionId}` },
    bearer(T.system),
  );
  expect(res.body.state).toBe('held');
};
const stateOf = async (actionId: string) =>
  (await api(rt.url!, 'GET', `/v1/actions/${actionId}`, undefined, bearer(T.viewer))).body.state;

beforeAll(async () => {
  rt = await testRuntime(settings);
  const events = [
    hrEvent({ personId: 'leaver:1', lastDay: inDays(40), timezone: 'Asia/Tokyo' }),
    hrEvent({ personId: 'soon/1', lastDay: inDays(3), employment: 'employee' }),
    hrEvent({ personId: 'called-off', lastDay: inDays(2) }),
    hrEvent({ personId: WEIRD, lastDay: inDays(50) }),
    // dep-1 is leaving now: revoked at once, so they may not approve.
    hrEvent({ personId: 'dep-1', type: 'contract.terminated' }),
  ];
  for (const e of events) expect((await postEvent(rt.url!, e)).status).toBe(202);
  await eventually(async () => (await rt.ctx.people.get('called-off')) !== undefined);
  const cancel = hrEvent({ personId: 'called-off', type: 'offboarding.cancelled' });
  expect((await postEvent(rt.url!, cancel)).status).toBe(202);
  const refused = hrEvent({ personId: 'cli-refused', timezone: 'Mars/Olympus_Mons' });
  expect((await postEvent(rt.url!, refused)).status).toBe(400);
  await eventually(async () => {
    const [dep, off, weird] = await Promise.all(
      ['dep-1', 'called-off', WEIRD].map((id) => rt.ctx.people.get(id)),
    );
    return dep?.milestones.some((m) => m.name === 'revoke' && m.state === 'done') && off?.cancelled && weird;
  }, 20_000);
});
afterAll(async () => {
  await rt?.stop();
});

describe('verbs that read, through the API', () => {
  it('status, upcoming, audit, evidence, rejected answer JSON as before', async () => {
    const viewer = as(T.viewer);
    const [status, weird, upcoming, audit, verify, evidence, rejected] = await Promise.all([
      json(['status', 'leaver:1'], viewer),
      json(['status', WEIRD], viewer),
      json(['upcoming', '--days', '7'], viewer),
      json(['audit', '--person', 'leaver:1'], viewer),
      json(['audit', '--verify'], viewer),
      json(['evidence', 'leaver:1'], viewer),
      json(['rejected'], viewer),
    ]);
    expect(status).toMatchObject({ personId: 'leaver:1', status: 'scheduled', timezone: 'Asia/Tokyo' });
    expect(status.milestones).toHaveLength(5);
    expect(weird.personId).toBe(WEIRD);

    // Called-off departures are not upcoming; each person shows what is due next.
    expect(upcoming.people.map((p: { personId: string }) => p.personId)).toEqual(['soon/1']);
    expect(upcoming.people[0]).toMatchObject({ next: { name: expect.any(String) } });

    expect(audit.entries.map((e: { type: string }) => e.type)).toContain('hr_event.applied');
    expect(verify).toMatchObject({ ok: true });

    expect(evidence.person.id).toBe('leaver:1');
    expect(evidence.controls.map((c: { control: string }) => c.control)).toEqual([
      'SOC 2 CC6.2',
      'FedRAMP PS-4',
      'PCI DSS 8.2.5',
    ]);
    expect(evidence.audit.chainOk).toBe(true);

    const entry = rejected.rejected.find((r: { source: string }) => r.source === 'http');
    expect(entry.issues).toEqual([{ path: 'person.timezone', message: expect.any(String) }]);
  });

  it('keeps the human renderings', async () => {
    const viewer = as(T.viewer);
    const [md, later, status, verify, rejected] = await Promise.all([
      runCli(['evidence', 'leaver:1', '--format', 'md'], viewer),
      runCli(['upcoming', '--days', '60'], viewer),
      runCli(['status', 'leaver:1'], viewer),
      runCli(['audit', '--verify'], viewer),
      runCli(['rejected'], viewer),
    ]);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('# Offboarding evidence: ');
    expect(md.stdout).toContain('| FedRAMP PS-4 |');
    expect(later.stdout).toContain('leaver:1');
    expect(later.stdout).not.toContain('called-off');
    expect(status.stdout).toMatch(/^leaver:1: scheduled\n/);
    expect(status.stdout).toContain('revoke');
    expect(verify.stdout).toMatch(/^audit chain verifies: \d+ entries/);
    expect(rejected.stdout).toMatch(/person\.timezone: /);
  });

  it('an unknown person exits 4, with the API’s error as JSON for scripts', async () => {
    const human = await runCli(['status', 'nobody'], as(T.viewer));
    expect(human.code).toBe(4);
    expect(human.stderr).toBe('lastday: not_found: no HR record for person nobody\n');
    // `..` would be resolved away by the URL parser and reach another route.
    const dots = await runCli(['approve', '..'], as(T.approver2));
    expect(dots.code).toBe(1);
    expect(dots.stderr).toMatch(/cannot be sent as a URL path segment/);
    const scripted = await runCli(['evidence', 'nobody', '--json'], as(T.viewer));
    expect(scripted.code).toBe(4);
    expect(JSON.parse(scripted.stdout)).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('verbs that decide: the acting person is the token’s', () => {
  it('refuses --as: a made-up second person approves nothing', async () => {
    await register('as-1', 'approver-1');
    for (const token of [undefined, T.approver2]) {
      const r = await runCli(['approve', 'as-1', '--as', 'anyone'], as(token));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--as is not accepted: the acting person is the personId of LASTDAY_TOKEN/);
      const c = await runCli(['cancel', 'as-1', '--as=anyone'], as(token));
      expect(c.code).toBe(1);
    }
    expect(await stateOf('as-1')).toBe('held');
    const help = await runCli(['approve', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).not.toContain('--as');
  });

  it('self-approval, a departing approver, a viewer and a bad token are refused in words, with the code', async () => {
    await register('vip-1', 'approver-1');
    const self = await runCli(['approve', 'vip-1'], as(T.approver));
    expect(self.code).toBe(1);
    expect(self.stderr).toContain('lastday: self_approval: approver-1 started vip-1 and may not approve it');
    expect(self.stderr).toMatch(/two-person rule: whoever started an action may not approve it/);
    const selfJson = await runCli(['approve', 'vip-1', '--json'], as(T.approver));
    expect(JSON.parse(selfJson.stdout)).toMatchObject({ error: { code: 'self_approval' } });

    const departing = await runCli(['approve', 'vip-1'], as(T.departing));
    expect(departing.code).toBe(1);
    expect(departing.stderr).toMatch(/approver_departing: dep-1 is offboarding/);
    expect(departing.stderr).toMatch(/whose own offboarding has begun/);

    const viewer = await runCli(['approve', 'vip-1'], as(T.viewer));
    expect(viewer.code).toBe(1);
    expect(viewer.stderr).toMatch(/^lastday: forbidden: /);

    for (const token of [undefined, 'not-a-known-token-5f3a']) {
      const r = await runCli(['approve', 'vip-1'], as(token));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/LASTDAY_TOKEN missing or unknown.*\(401 unauthorized\)/);
      expect(r.stdout + r.stderr).not.toContain('5f3a');
    }
    expect(await stateOf('vip-1')).toBe('held');

    const ok = await json(['approve', 'vip-1'], as(T.approver2));
    expect(ok).toMatchObject({ actionId: 'vip-1', state: 'approved', approvedBy: 'approver-2' });
    const again = await runCli(['approve', 'vip-1'], as(T.approver2));
    expect(again.stdout).toMatch(/^vip-1: approved /);
    expect((await runCli(['approve', 'no-such-action'], as(T.approver2))).code).toBe(4);
  });

  it('holds and cancel', async () => {
    await register('vip-2', 'approver-1');
    const holds = await json(['holds'], as(T.viewer));
    expect(holds.holds.map((h: { actionId: string }) => h.actionId)).toContain('vip-2');
    const human = await runCli(['holds'], as(T.viewer));
    expect(human.stdout).toMatch(/vip-2 {2}account\.deactivate account:@vip-vip-2 {2}by approver-1/);
    const cancelled = await json(['cancel', 'vip-2', '--reason', 'leaver'], as(T.approver2));
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelledBy: 'approver-2' });
    const audit = await json(['audit', '--action', 'vip-2'], as(T.viewer));
    expect(audit.entries.at(-1)).toMatchObject({ type: 'action.cancelled', actor: 'approver-2' });
  });
});

describe('when the API is not there, or not lastday', () => {
  const servers: Server[] = [];
  const serve = async (handler: Parameters<typeof createServer>[1]) => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('nothing listening: exit 2, saying how to start it or set LASTDAY_URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(['holds'], { LASTDAY_URL: url, LASTDAY_TOKEN: T.viewer });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no lastday API at ${url} (ECONNREFUSED)`);
    expect(r.stderr).toMatch(/npm start.*LASTDAY_URL/);
    expect(r.stderr).not.toContain(T.viewer);
  });

  it('the default URL is http://127.0.0.1:8080', async () => {
    const r = await runCli(['status', 'x'], { LASTDAY_TOKEN: T.viewer });
    // Whatever runs there (most likely nothing) is addressed at the contract's default.
    expect(r.stderr + r.stdout).toMatch(/127\.0\.0\.1:8080|"personId"|not_found/);
  });

  it('something that is not lastday, or a redirect elsewhere: exit 2, the token not sent on', async () => {
    const html = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>hi</h1>'),
    );
    const r = await runCli(['holds'], { LASTDAY_URL: html, LASTDAY_TOKEN: T.viewer });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/answered \/v1\/holds with HTTP 200 \(text\/html\), not lastday's API/);

    const seen: (string | undefined)[] = [];
    const elsewhere = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.end('{}');
    });
    const redirect = await serve((req, res) =>
      res.writeHead(302, { location: `${elsewhere}${req.url}` }).end(),
    );
    const moved = await runCli(['holds'], { LASTDAY_URL: redirect, LASTDAY_TOKEN: T.viewer });
    expect(moved.code).toBe(2);
    expect(moved.stderr).toMatch(/redirects GET \/v1\/holds \(302\)/);
    expect(seen).toEqual([]);
  });

  it('a server that never answers times out', async () => {
    const hung = await serve(() => undefined);
    const client = new ApiClient({ url: hung, token: T.viewer, timeoutMs: 200 });
    const err = await client.holds().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiUnreachableError);
    expect((err as Error).message).toMatch(/^no answer from http:\/\/127\.0\.0\.1:\d+ within 200 ms/);
  });

  it('an unusable LASTDAY_URL or LASTDAY_TOKEN is refused before anything is sent, without echoing it', async () => {
    const cases: Record<string, string>[] = [
      { LASTDAY_URL: 'ftp://127.0.0.1:8080' },
      { LASTDAY_URL: 'http://user:secret-pass@127.0.0.1:8080' },
      { LASTDAY_URL: 'ld_secret-looking-value' },
      { LASTDAY_URL: rt.url!, LASTDAY_TOKEN: 'secret-tok\nen' },
    ];
    for (const env of cases) {
      const r = await runCli(['holds'], env);
      expect(r.code, JSON.stringify(env)).toBe(1);
      expect(r.stderr).toMatch(/^lastday: LASTDAY_(URL|TOKEN)/);
      expect(r.stderr).not.toMatch(/secret/);
    }
  });
});

describe('verbs on Redis directly: queues and run', () => {
  // A horizon of a year: r-2, 40 days ahead, has its first milestone's job too.
  const horizon = { LASTDAY_HORIZON_HOURS: String(24 * 366) };
  const redisSettings = testSettings({}, horizon);
  const env = { LASTDAY_PREFIX: redisSettings.env.LASTDAY_PREFIX, ...horizon };
  let ctx: Context;
  beforeAll(async () => {
    // No workers under this prefix: what is due stays due.
    ctx = await testContext(redisSettings);
    // Planned 20 minutes ago: its past-due notice has been actionable for longer
    // than the 15-minute overdue allowance.
    const earlier = await testContext(redisSettings, () => new Date(Date.now() - 20 * 60_000));
    await applyEvent(earlier, hrEvent({ personId: 'r-1', lastDay: inDays(3) }) as HrEvent);
    await earlier.close();
    await applyEvent(ctx, hrEvent({ personId: 'r-2', lastDay: inDays(40) }) as HrEvent);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('queues, run reconcile, run overdue (exit 3), an unknown task (exit 1)', async () => {
    const [queues, reconcile, overdue] = await Promise.all([
      json(['queues'], env),
      json(['run', 'reconcile'], env),
      json(['run', 'overdue'], env, 3),
    ]);
    const milestones = queues.queues.find((q: { name: string }) => q.name === 'milestones');
    // One job per person: the first open milestone's.
    expect(milestones.counts.delayed + milestones.counts.waiting).toBeGreaterThanOrEqual(2);
    expect(milestones.nextDelayed).toMatchObject({ at: expect.stringMatching(/Z$/) });
    expect(reconcile.result).toMatchObject({ scanned: 2, open: 2, rescheduled: 0, errors: 0 });
    expect(overdue.result.overdue[0]).toMatchObject({ personId: 'r-1', milestone: 'notice' });
    const unknown = await runCli(['run', 'nonsense'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown task nonsense: expected one of reconcile, /);
  });

  it('no Redis to talk to: exit 2', async () => {
    const r = await runCli(['queues'], { REDIS_URL: undefined, LASTDAY_DATA_DIR: '/nonexistent/lastday' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Redis to talk to: set REDIS_URL/);
  });

  it('a config error: one line per problem, naming the field, exit 1', async () => {
    const r = await runCli(['queues'], { ...env, PORT: 'eighty' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('PORT: expected a number\n');
  });
});

describe('help', () => {
  it('lists every command; the lists in help texts match what the code accepts', async () => {
    const r = await runCli(['--help'], {});
    expect(r.code).toBe(0);
    for (const verb of ['status', 'upcoming', 'holds', 'approve', 'cancel', 'audit', 'evidence', 'enqueue']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${verb} `, 'm'));
    }
    // Written out so --help loads no task, runtime or schema module.
    expect(RUN_TASKS_HELP).toBe(OPS_TASKS.join(', '));
    expect(START_ROLES_HELP).toBe(ROLE_NAMES.join(','));
    expect((await runCli(['token', 'create', '--help'], {})).stdout).toContain(ROLES.join(', '));
  });
});

describe('the lastday process (smoke test of bin/lastday.js)', () => {
  it('answers --help, and `approve ID --as anyone` approves nothing', { timeout: 60_000 }, async () => {
    await register('smoke-1', 'approver-1');
    const [help, approve] = await Promise.all([
      runCliProcess(['--help'], {}),
      // Everything the old CLI needed to approve on its own: Redis and the prefix.
      runCliProcess(['approve', 'smoke-1', '--as', 'anyone'], {
        LASTDAY_PREFIX: settings.env.LASTDAY_PREFIX,
        LASTDAY_URL: rt.url!,
      }),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: lastday /);
    expect(approve.code, approve.stdout).toBe(1);
    expect(await stateOf('smoke-1')).toBe('held');
  });
});
