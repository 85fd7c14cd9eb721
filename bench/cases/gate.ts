/**
 * Case 4, gate: the hot path a tool calls right before it executes something
 * destructive. N gate checks (a) in-process through GuardService.gate, one at a
 * time, and (b) over HTTP (`POST /v1/actions/:id/gate`, bearer token, keep-alive)
 * with autocannon at a fixed concurrency: p50/p99 and requests/s. The HTTP
 * server is a separate `lastday start --roles api` process, as deployed, so
 * autocannon's own work in the bench process does not share its event loop.
 * Floor: a Redis `GET` round trip on the same server (sequential, and at the
 * same concurrency), i.e. the least one remote read can cost.
 *
 * The actions are registered and gated once before the timing (an action's
 * first `allow` writes its audit entry once; every later check is read-only),
 * so the figures are the steady hot path. The first-allow latency is reported apart.
 */
import { clusterSeeds } from '../../src/queues/connection.ts';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sha256Hex } from '../../src/http/auth.ts';
import { startRuntime } from '../../src/app/runtime.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { benchEvent, benchPrefix, benchSettings, driverRedis, sleep, waitUntil } from '../lib/lastday.ts';
import { summarize } from '../lib/stats.ts';
import type { BenchCase, CaseEnv, CaseResult } from '../lib/types.ts';

const GOAL_P99_MS = 5;
const CONCURRENCY = 10;
const TOKEN = 'bench-system-token';
const TOKEN_ENTRY = { name: 'bench-system', role: 'system', sha256: sha256Hex(TOKEN) };

export const gateCase: BenchCase = {
  name: 'gate',
  number: 4,
  title: 'Gate',
  goal: `HTTP p99 ≤ ${GOAL_P99_MS} ms`,
  async run(env: CaseEnv): Promise<CaseResult> {
    const checks = env.quick ? 2_000 : 10_000;
    const actionsN = env.quick ? 200 : 1_000;
    const prefix = benchPrefix('gate');
    const settings = benchSettings(prefix, { auth: { tokens: [TOKEN_ENTRY] } });
    const rt = await startRuntime({
      settings,
      redisUrl: env.redisUrl,
      log: createLogger(settings.env.LOG_LEVEL),
      roles: ['worker'],
    });
    const driver = driverRedis(env.redisUrl);
    const dir = mkdtempSync(join(tmpdir(), 'lastday-bench-gate-'));
    let api: ApiProcess | undefined;
    try {
      const guard = rt.ctx.guard;
      const actor = { name: 'bench' };
      // An initiator with an HR record (active, last day far ahead), so the gate reads a real person.
      const initiator = 'gate-initiator';
      await rt.ctx.queues.hrEvents.add('contract.ending', benchEvent(initiator, { lastDay: '2030-06-28' }), {
        jobId: `bench-gate-plan`,
      });
      await waitUntil(
        'initiator planned',
        async () => (await rt.ctx.shardOf(initiator).people.get(initiator)) !== undefined,
        30_000,
      );

      env.progress(`gate: registering ${actionsN} actions`);
      for (let i = 0; i < actionsN; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, actionsN - i) }, (_, j) =>
            guard.register(
              {
                actionId: `g-${i + j}`,
                initiatorId: initiator,
                kind: 'account.deactivate',
                target: `account:${i + j}`,
              },
              actor,
            ),
          ),
        );
      }
      const first: number[] = [];
      for (let i = 0; i < actionsN; i++) {
        const t = performance.now();
        await guard.gate(`g-${i}`, actor);
        first.push(performance.now() - t);
      }

      env.progress(`gate: ${checks} checks in-process`);
      const inProcess: number[] = [];
      const tIn = performance.now();
      for (let i = 0; i < checks; i++) {
        const t = performance.now();
        const r = await guard.gate(`g-${i % actionsN}`, actor);
        inProcess.push(performance.now() - t);
        if (r.decision !== 'allow') throw new Error(`gate answered ${r.decision} for g-${i % actionsN}`);
      }
      const inProcessPerSecond = checks / ((performance.now() - tIn) / 1000);

      env.progress(`gate: starting the API process`);
      api = await startApi(env.redisUrl, prefix, dir);
      // Warm-up: the first requests compile routes and open Redis connections.
      await cannon({
        url: api.url,
        connections: CONCURRENCY,
        amount: Math.min(1_000, checks),
        requests: [{ method: 'POST' as const, path: `/v1/actions/g-0/gate` }],
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      env.progress(`gate: ${checks} checks over HTTP, autocannon at concurrency ${CONCURRENCY}`);
      const http = await cannon({
        url: api.url,
        connections: CONCURRENCY,
        amount: checks,
        requests: Array.from({ length: actionsN }, (_, i) => ({
          method: 'POST' as const,
          path: `/v1/actions/g-${i}/gate`,
        })),
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      env.progress(`gate: ${Math.floor(checks / 2)} checks over HTTP, one connection`);
      const single = await cannon({
        url: api.url,
        connections: 1,
        amount: Math.floor(checks / 2),
        requests: Array.from({ length: actionsN }, (_, i) => ({
          method: 'POST' as const,
          path: `/v1/actions/g-${i}/gate`,
        })),
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      if (http.non2xx + single.non2xx > 0 || http.errors + single.errors > 0)
        throw new Error(`gate over HTTP: ${http.non2xx} non-2xx answers, ${http.errors} errors`);

      env.progress(`gate: Redis GET floor`);
      await driver.set(`${prefix}:floor`, 'x');
      const floor: number[] = [];
      for (let i = 0; i < checks; i++) {
        const t = performance.now();
        await driver.get(`${prefix}:floor`);
        floor.push(performance.now() - t);
      }
      // The floor at the same concurrency: 10 loops sharing one connection, as ioredis pipelines them.
      const floorConcurrent: number[] = [];
      const tFloor = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < checks) {
            next++;
            const t = performance.now();
            await driver.get(`${prefix}:floor`);
            floorConcurrent.push(performance.now() - t);
          }
        }),
      );
      const floorPerSecond = checks / ((performance.now() - tFloor) / 1000);

      const f = summarize(first);
      const inP = summarize(inProcess);
      const fl = summarize(floor);
      const flc = summarize(floorConcurrent);
      const holds = http.p99 <= GOAL_P99_MS;
      return {
        figures: [
          { label: 'in-process p50', unit: 'ms', lastday: inP.p50, baseline: fl.p50 },
          { label: 'in-process p99', unit: 'ms', lastday: inP.p99, baseline: fl.p99 },
          { label: 'in-process checks/s', unit: '/s', lastday: inProcessPerSecond },
          { label: 'HTTP p50, 1 conn', unit: 'ms', lastday: single.p50, baseline: fl.p50 },
          { label: 'HTTP p99, 1 conn', unit: 'ms', lastday: single.p99, baseline: fl.p99 },
          { label: `HTTP p50, ${CONCURRENCY} conns`, unit: 'ms', lastday: http.p50, baseline: flc.p50 },
          {
            label: `HTTP req/s, ${CONCURRENCY} conns`,
            unit: '/s',
            lastday: http.perSecond,
            baseline: floorPerSecond,
          },
          { label: `HTTP p99, ${CONCURRENCY} conns`, unit: 'ms', lastday: http.p99, baseline: flc.p99 },
        ],
        ratio: http.p99 / flc.p99,
        holds,
        verdict: `HTTP p99 ${http.p99.toFixed(2)} ms ${holds ? '≤' : '>'} ${GOAL_P99_MS} ms`,
        params: {
          checks,
          actions: actionsN,
          httpConcurrency: CONCURRENCY,
          httpClient: 'autocannon (keep-alive, no pipelining)',
          firstAllow: { p50: f.p50, p99: f.p99 },
          inProcess: inP,
          http,
          httpOneConnection: single,
          redisGetSequential: fl,
          redisGetConcurrent: flc,
        },
        notes: [
          `gate: baseline column = a Redis GET round trip on the same server (sequential beside in-process and HTTP on 1 connection; ${CONCURRENCY} at once beside HTTP at ${CONCURRENCY}). ` +
            `An action's first allow (audited once) took p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms in-process.`,
        ],
      };
    } finally {
      await api?.stop();
      driver.disconnect();
      await rt.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

interface CannonResult {
  p50: number;
  p99: number;
  max: number;
  perSecond: number;
  non2xx: number;
  errors: number;
  requests: number;
}

/**
 * One autocannon run. Latencies come from its per-response event (float ms
 * from process.hrtime): its own histogram rounds to whole milliseconds, too
 * coarse beside a 5 ms goal.
 */
async function cannon(opts: {
  url: string;
  connections: number;
  amount: number;
  requests: { method: 'POST'; path: string }[];
  headers: Record<string, string>;
}): Promise<CannonResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        amount: opts.amount,
        headers: opts.headers,
        requests: opts.requests,
      },
      (err, r) => (err ? reject(err as Error) : resolve(r)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  const s = summarize(latencies);
  return {
    p50: s.p50,
    p99: s.p99,
    max: s.max,
    perSecond: result.requests.total / (result.duration || 1),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
  };
}

interface ApiProcess {
  url: string;
  stop(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../bin/lastday.js', import.meta.url));

/** `lastday start --roles api` on a free port, same Redis and prefix; resolves once /readyz answers 200. */
async function startApi(redisUrl: string, prefix: string, dir: string): Promise<ApiProcess> {
  const port = await freePort();
  const seeds = clusterSeeds(redisUrl);
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ auth: { tokens: [TOKEN_ENTRY] } }));
  const child: ChildProcess = spawn(process.execPath, [BIN, 'start', '--roles', 'api'], {
    env: {
      PATH: process.env.PATH ?? '',
      // A cluster run (`--cluster --case gate`) hands the child its seeds.
      ...(seeds
        ? { REDIS_CLUSTER_NODES: seeds.map((n) => `${n.host}:${n.port}`).join(',') }
        : { REDIS_URL: redisUrl }),
      LASTDAY_PREFIX: prefix,
      LASTDAY_CONFIG: configPath,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await waitUntil(
      'API process ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`API process exited with ${child.exitCode}`);
        return (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200;
      },
      60_000,
      200,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
