/**
 * Case 4, gate: the hot path a tool calls right before it executes something
 * destructive. N gate checks (a) in-process through GuardService.gate, one at a
 * time, and (b) over HTTP (`POST /v1/actions/:id/gate`, bearer token, keep-alive)
 * at a fixed concurrency, closed loop: p50/p99 and requests/s. The HTTP server
 * is a separate `lastday start --roles api` process, as deployed. The load
 * generator (lib/httpLoad.mjs) is a process of its own too, lean, and the same
 * for lastday and the floor: in the bench process it shared an event loop with
 * the bench's lastday runtime, and autocannon's CPU per request was close to
 * the server's own on a 2-core machine.
 * Floor: a Redis `GET` round trip on the same server (sequential, and at the
 * same concurrency), i.e. the least one remote read can cost; and a bare
 * node:http server doing one GET per request, under the same HTTP load.
 *
 * Latency breakdown: both servers are started with lib/serverTiming.mjs
 * preloaded, which times each request inside the server (headers parsed →
 * answer handed to the socket) and records GC pauses; the rest of what the
 * client sees is waiting outside the server's handling (in the socket for the
 * event loop, on the way back, in the client).
 *
 * At 10 connections in a closed loop the server is saturated by design: each
 * connection sends its next request the moment an answer arrives, so about 10
 * requests wait on the API's one thread and the p50 is about 10 × its time per
 * request (Little's law), whatever the gate's own latency (the 1-connection row).
 *
 * The actions are registered and gated once before the timing (an action's
 * first `allow` writes its audit entry once; every later check is read-only),
 * so the figures are the steady hot path. The first-allow latency is reported apart.
 *
 * The API process runs as deployed: the compiled dist/ (bin/bench.js builds it)
 * with the node flags of `npm start`. Both servers get the same warm-up, long enough for their
 * start-up scavenges (which copy the freshly compiled code's heap, 2–16 ms
 * each) to fall before the window, and the 10-connection run is 10,000
 * requests in the quick run too: with 10 requests in flight, one pause delays
 * about 10 at once, so the p99 of 2,000 (the worst 20) was the second-worst
 * pause of one second, not a percentile (docs/benchmarks.md).
 */
import { clusterSeeds } from '../../src/queues/connection.ts';
import { execFileSync, type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../../src/http/auth.ts';
import { startRuntime } from '../../src/app/runtime.ts';
import { isCluster } from '../../src/store/redisClient.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { commandStats } from '../lib/redis.ts';
import { benchEvent, benchPrefix, benchSettings, driverRedis, sleep, waitUntil } from '../lib/lastday.ts';
import { type Summary, summarize } from '../lib/stats.ts';
import type { BenchCase, CaseEnv, CaseResult } from '../lib/types.ts';

const GOAL_P99_MS = 5;
const CONCURRENCY = 10;
/** Requests in the 10-connection run, quick or not: enough for the p99 to be the worst 1 %, not two pauses. */
const HTTP_CHECKS = 10_000;
/** Warm-up requests per server before its timed runs. */
const WARM_UP = 5_000;
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
      // Warm-up: the first requests compile routes, open Redis connections, and
      // the first scavenges copy the start-up heap.
      await cannon({
        url: api.url,
        connections: CONCURRENCY,
        amount: WARM_UP,
        requests: [{ method: 'POST' as const, path: `/v1/actions/g-0/gate` }],
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      env.progress(`gate: ${HTTP_CHECKS} checks over HTTP, closed loop at concurrency ${CONCURRENCY}`);
      // Load-independent figures beside the latencies: the API process's CPU and
      // Redis's commands per request (the machine's other load moves the tail, not these).
      const sched0 = schedStat(api.pid);
      const cpu0 = processCpuSeconds(api.pid);
      const cmd0 = await commandCalls(driver);
      const http = await cannon({
        url: api.url,
        connections: CONCURRENCY,
        amount: HTTP_CHECKS,
        requests: Array.from({ length: actionsN }, (_, i) => ({
          method: 'POST' as const,
          path: `/v1/actions/g-${i}/gate`,
        })),
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const cpu1 = processCpuSeconds(api.pid);
      const apiWait = waitPerRequestUs(sched0, schedStat(api.pid), http.requests);
      const cmd1 = await commandCalls(driver);
      const cpuPerRequestUs =
        cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1e6) / http.requests : undefined;
      const perRequest = (a: CommandCalls | undefined, b: CommandCalls | undefined) => {
        if (!a || !b) return undefined;
        // The second INFO is counted in `b`, so one call is not the API's.
        const calls = Object.entries(b.calls).map(
          ([c, n]) => [c, n - (a.calls[c] ?? 0) - (c === 'info' ? 1 : 0)] as const,
        );
        return {
          commands: (b.total - a.total - 1) / http.requests,
          byCommand: Object.fromEntries(
            calls.filter(([, n]) => n > 0).map(([c, n]) => [c, Math.round((n / http.requests) * 100) / 100]),
          ),
        };
      };
      const redisPerRequest = perRequest(cmd0, cmd1);
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
      await api.stop();
      const apiTiming = serverTiming(dir, api.pid, http.window);

      await driver.set(`${prefix}:floor`, 'x');
      // The same load against a bare node:http server doing one Redis GET per
      // request (lib/httpFloorServer.mjs): what any HTTP service on one round
      // trip gets from this machine right now. Not on a cluster (one node's URL).
      let httpFloor:
        | (CannonResult & {
            cpuPerRequestUs: number | undefined;
            server: ServerTiming | undefined;
            runQueueWaitPerRequestUs: number | undefined;
          })
        | undefined;
      if (!clusterSeeds(env.redisUrl)) {
        env.progress(`gate: HTTP floor (bare node:http + one Redis GET) at concurrency ${CONCURRENCY}`);
        const floorApi = await startHttpFloor(env.redisUrl, `${prefix}:floor`, dir);
        try {
          const load = {
            connections: CONCURRENCY,
            headers: {},
            requests: [{ method: 'POST' as const, path: '/' }],
          };
          await cannon({ url: floorApi.url, amount: WARM_UP, ...load });
          const s0 = schedStat(floorApi.pid);
          const c0 = processCpuSeconds(floorApi.pid);
          const r = await cannon({ url: floorApi.url, amount: HTTP_CHECKS, ...load });
          const c1 = processCpuSeconds(floorApi.pid);
          const wait = waitPerRequestUs(s0, schedStat(floorApi.pid), r.requests);
          await floorApi.stop();
          httpFloor = {
            ...r,
            cpuPerRequestUs:
              c0 !== undefined && c1 !== undefined ? ((c1 - c0) * 1e6) / r.requests : undefined,
            server: serverTiming(dir, floorApi.pid, r.window),
            runQueueWaitPerRequestUs: wait,
          };
        } finally {
          await floorApi.stop();
        }
      }

      env.progress(`gate: Redis GET floor`);
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
          ...(cpuPerRequestUs !== undefined
            ? [
                {
                  label: 'API CPU per request',
                  unit: 'µs',
                  lastday: cpuPerRequestUs,
                  ...(httpFloor?.cpuPerRequestUs !== undefined
                    ? { baseline: httpFloor.cpuPerRequestUs }
                    : {}),
                },
              ]
            : []),
          ...(httpFloor
            ? [
                {
                  label: `HTTP p99, ${CONCURRENCY} conns, bare node:http + GET`,
                  unit: 'ms',
                  lastday: http.p99,
                  baseline: httpFloor.p99,
                },
              ]
            : []),
          ...(apiTiming
            ? [
                {
                  label: `in-server p50, ${CONCURRENCY} conns, vs bare`,
                  unit: 'ms',
                  lastday: apiTiming.requests.p50,
                  ...(httpFloor?.server ? { baseline: httpFloor.server.requests.p50 } : {}),
                },
                {
                  label: `in-server p99, ${CONCURRENCY} conns, vs bare`,
                  unit: 'ms',
                  lastday: apiTiming.requests.p99,
                  ...(httpFloor?.server ? { baseline: httpFloor.server.requests.p99 } : {}),
                },
              ]
            : []),
          ...(redisPerRequest
            ? [{ label: 'Redis commands per request', unit: '', lastday: redisPerRequest.commands }]
            : []),
          { label: `HTTP p99, ${CONCURRENCY} conns`, unit: 'ms', lastday: http.p99, baseline: flc.p99 },
        ],
        ratio: http.p99 / flc.p99,
        holds,
        verdict: `HTTP p99 ${http.p99.toFixed(2)} ms ${holds ? '≤' : '>'} ${GOAL_P99_MS} ms`,
        params: {
          checks,
          httpChecks: HTTP_CHECKS,
          warmUp: WARM_UP,
          apiNodeFlags: startNodeFlags(),
          actions: actionsN,
          httpConcurrency: CONCURRENCY,
          httpClient: 'bench/lib/httpLoad.mjs, own process (keep-alive, closed loop, no pipelining)',
          firstAllow: { p50: f.p50, p99: f.p99 },
          inProcess: inP,
          http,
          httpOneConnection: single,
          redisGetSequential: fl,
          redisGetConcurrent: flc,
          ...(cpuPerRequestUs !== undefined ? { apiCpuPerRequestUs: cpuPerRequestUs } : {}),
          ...(redisPerRequest ? { redisPerRequest } : {}),
          ...(httpFloor ? { httpFloor } : {}),
          ...(apiTiming ? { apiServerTiming: apiTiming } : {}),
          ...(apiWait !== undefined ? { apiRunQueueWaitPerRequestUs: apiWait } : {}),
        },
        notes: [
          `gate: baseline column = a Redis GET round trip on the same server (sequential beside in-process and HTTP on 1 connection; ${CONCURRENCY} at once beside HTTP at ${CONCURRENCY}). ` +
            (httpFloor
              ? `A bare node:http server doing one Redis GET per request, under the same load: p50 ${httpFloor.p50.toFixed(2)} ms, p99 ${httpFloor.p99.toFixed(2)} ms${httpFloor.cpuPerRequestUs !== undefined ? `, ${Math.round(httpFloor.cpuPerRequestUs)} µs CPU per request` : ''} (the row 'bare node:http + GET'). `
              : '') +
            `An action's first allow (audited once) took p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms in-process. ` +
            `Breakdown at ${CONCURRENCY} conns (client p50/p99 → in-server p50/p99, GC pauses in the window; the server thread's wait for a core per request; load generator CPU per request): ` +
            `lastday ${breakdown(http, apiTiming, apiWait)}` +
            (httpFloor
              ? `; bare ${breakdown(httpFloor, httpFloor.server, httpFloor.runQueueWaitPerRequestUs)}`
              : '') +
            '.',
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
  /** The load generator's own CPU per request (µs). */
  clientCpuPerRequestUs: number;
  /** Wall-clock epoch ms the run started and ended. */
  window: [number, number];
}

const LOAD = fileURLToPath(new URL('../lib/httpLoad.mjs', import.meta.url));

/**
 * One run of the load generator (lib/httpLoad.mjs) in its own process:
 * latencies per response (float ms from process.hrtime), and the wall-clock
 * window it ran in (to cut the servers' own timings to the same requests).
 */
async function cannon(opts: {
  url: string;
  connections: number;
  amount: number;
  requests: { method: 'POST'; path: string }[];
  headers: Record<string, string>;
}): Promise<CannonResult> {
  const from = performance.timeOrigin + performance.now();
  // --expose-gc: the client collects its start-up garbage before its first request.
  const child = spawn(process.execPath, ['--expose-gc', LOAD, JSON.stringify(opts)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += String(chunk)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  const r = JSON.parse(out) as {
    latencies: number[];
    requests: number;
    durationS: number;
    non2xx: number;
    errors: number;
    cpuUs: number;
  };
  const s = summarize(r.latencies);
  return {
    p50: s.p50,
    p99: s.p99,
    max: s.max,
    perSecond: r.requests / (r.durationS || 1),
    non2xx: r.non2xx,
    // Requests never answered (a refused or dropped connection) are errors too.
    errors: r.errors + Math.max(0, opts.amount - r.requests),
    requests: r.requests,
    clientCpuPerRequestUs: r.cpuUs / Math.max(1, r.requests),
    window: [from, performance.timeOrigin + performance.now()],
  };
}

interface ServerTiming {
  /** Per request inside the server: headers parsed → answer handed to the socket (ms). */
  requests: Summary;
  /** GC pauses in the window: how many, their sum and the longest (ms). */
  gc: { count: number; totalMs: number; maxMs: number };
}

const SERVER_TIMING = fileURLToPath(new URL('../lib/serverTiming.mjs', import.meta.url));

/** What lib/serverTiming.mjs recorded in process `pid` within `window`; undefined if it wrote nothing. */
function serverTiming(
  dir: string,
  pid: number | undefined,
  [from, to]: readonly [number, number],
): ServerTiming | undefined {
  let raw: { requests: number[]; gc: number[] };
  try {
    raw = JSON.parse(readFileSync(join(dir, `${pid}.json`), 'utf8')) as typeof raw;
  } catch {
    return undefined;
  }
  const within = (flat: number[]) => {
    const out: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i]! >= from && flat[i]! <= to) out.push(flat[i + 1]!);
    }
    return out;
  };
  const pauses = within(raw.gc);
  return {
    requests: summarize(within(raw.requests)),
    gc: {
      count: pauses.length,
      totalMs: pauses.reduce((a, b) => a + b, 0),
      maxMs: Math.max(0, ...pauses),
    },
  };
}

function breakdown(
  client: CannonResult,
  server: ServerTiming | undefined,
  waitUs: number | undefined,
): string {
  const ms = (n: number) => n.toFixed(2);
  return (
    `${ms(client.p50)}/${ms(client.p99)} ms → ` +
    (server
      ? `${ms(server.requests.p50)}/${ms(server.requests.p99)} ms, GC ${server.gc.count} × (${ms(server.gc.totalMs)} ms, max ${ms(server.gc.maxMs)})`
      : 'no server timing') +
    (waitUs !== undefined ? `; waited ${Math.round(waitUs)} µs for a core` : '') +
    `; client ${Math.round(client.clientCpuPerRequestUs)} µs`
  );
}

/**
 * The main thread's scheduler figures (Linux /proc/<pid>/schedstat): ns on a
 * core, ns runnable but waiting for one. Undefined elsewhere.
 */
function schedStat(pid: number | undefined): { runNs: number; waitNs: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return run !== undefined && wait !== undefined ? { runNs: run, waitNs: wait } : undefined;
  } catch {
    return undefined;
  }
}

/** How long the server's event-loop thread waited for a core per request (µs), between two schedStat reads. */
function waitPerRequestUs(
  a: ReturnType<typeof schedStat>,
  b: ReturnType<typeof schedStat>,
  requests: number,
): number | undefined {
  return a && b ? (b.waitNs - a.waitNs) / 1e3 / Math.max(1, requests) : undefined;
}

interface ApiProcess {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** User + system CPU seconds of a process so far (Linux /proc; undefined elsewhere). */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return Number.isFinite(ticks) ? ticks / hz : undefined;
  } catch {
    return undefined;
  }
}

interface CommandCalls {
  total: number;
  calls: Record<string, number>;
}

/**
 * Commands Redis has run so far, by name (`INFO commandstats`; a script's own
 * calls count under their names too). Undefined on a cluster: the commands
 * would be spread over its masters.
 */
async function commandCalls(redis: ReturnType<typeof driverRedis>): Promise<CommandCalls | undefined> {
  if (isCluster(redis)) return undefined;
  const calls: Record<string, number> = {};
  let total = 0;
  for (const [cmd, stat] of await commandStats(redis)) {
    calls[cmd] = stat.calls;
    total += stat.calls;
  }
  return { total, calls };
}

/**
 * Node flags for the API process and the bare floor server from LASTDAY_BENCH_API_NODE_ARGS (space-separated),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it (not allowed in NODE_OPTIONS).
 */
function apiNodeArgs(): string[] {
  return (process.env.LASTDAY_BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '');
}

const BIN = fileURLToPath(new URL('../../bin/lastday.js', import.meta.url));

/**
 * The node flags `npm start` runs lastday with (package.json `scripts.start`,
 * the words between `node` and `bin/lastday.js`; the image's ENTRYPOINT has the
 * same, test/unit/deployment.test.ts), so the bench's API runs as deployed.
 */
export function startNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.trim().split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('bin/lastday.js'));
}

/** `lastday start --roles api` on a free port, same Redis and prefix; resolves once /readyz answers 200. */
async function startApi(redisUrl: string, prefix: string, dir: string): Promise<ApiProcess> {
  const port = await freePort();
  const seeds = clusterSeeds(redisUrl);
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ auth: { tokens: [TOKEN_ENTRY] } }));
  const child: ChildProcess = spawn(
    process.execPath,
    [...startNodeFlags(), ...apiNodeArgs(), '--import', SERVER_TIMING, BIN, 'start', '--roles', 'api'],
    {
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
        LASTDAY_BENCH_TIMING_DIR: dir,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
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
  return { url, pid: child.pid, stop };
}

const FLOOR_SERVER = fileURLToPath(new URL('../lib/httpFloorServer.mjs', import.meta.url));

/** lib/httpFloorServer.mjs on a free port (it prints the port once listening), timed like the API. */
async function startHttpFloor(redisUrl: string, key: string, dir: string): Promise<ApiProcess> {
  const child = spawn(
    process.execPath,
    [...apiNodeArgs(), '--import', SERVER_TIMING, FLOOR_SERVER, redisUrl, key],
    {
      env: { PATH: process.env.PATH ?? '', LASTDAY_BENCH_TIMING_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`HTTP floor server exited with ${code}`)));
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
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
