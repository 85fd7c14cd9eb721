/**
 * Measures audit appends on a private redis-server: Redis time per entry
 * (`INFO commandstats`, usec_per_call of evalsha) and throughput with C
 * concurrent appenders, in this process and across several processes on the
 * same chain.
 *
 *   npx tsx bench/auditChain.ts [entries=4000] [concurrency=32] [processes=1]
 *
 * Not a test: timings depend on the machine. Prints one JSON line.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createContext } from '../src/app/context.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { envSchema } from '../src/config/env.ts';
import { parseConfig } from '../src/config/load.ts';
import { startBenchRedis } from './lib/redis.ts';

const [entries = 4000, concurrency = 32, processes = 1] = process.argv.slice(2).map(Number);
const PREFIX = 'bench-audit';

/**
 * One process's share: `n` appends from `c` concurrent loops, started when
 * `go` resolves (so process start-up is not timed).
 */
async function appendMany(redisUrl: string, n: number, c: number, go: () => Promise<void>): Promise<void> {
  const settings = {
    env: envSchema.parse({ LASTDAY_PREFIX: PREFIX, LOG_LEVEL: 'silent', ...keyEnv() }),
    config: parseConfig({}),
  };
  const ctx = await createContext({ settings, redisUrl, log: createLogger('silent'), connectors: false });
  await go();
  let next = 0;
  const loop = async () => {
    while (next < n) {
      const i = next++;
      await ctx.audit.append({
        type: 'bench.entry',
        actor: 'bench',
        personId: `person-${i % 500}`,
        details: { i, note: 'a typical entry carries a few fields of detail' },
        at: new Date().toISOString(),
      });
    }
  };
  await Promise.all(Array.from({ length: c }, loop));
  await ctx.close();
}

function keyEnv(): Record<string, string> {
  return process.env.LASTDAY_AUDIT_KEY ? { LASTDAY_AUDIT_KEY: process.env.LASTDAY_AUDIT_KEY } : {};
}

if (process.env.BENCH_CHILD) {
  // Ready once connected; the parent's newline on stdin starts every child at once.
  await appendMany(process.env.BENCH_CHILD, entries, concurrency, async () => {
    process.stdout.write('ready\n');
    await new Promise((r) => process.stdin.once('data', r));
  });
  process.exit(0);
}

const server = await startBenchRedis();
const admin = new Redis(server.url);
try {
  await admin.config('SET', 'save', '');
  await admin.config('RESETSTAT');
  let started = 0;
  if (processes <= 1) {
    await appendMany(server.url, entries, concurrency, async () => {
      started = performance.now();
    });
  } else {
    const share = Math.ceil(entries / processes);
    const children = Array.from({ length: processes }, () =>
      spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), String(share), String(concurrency)],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
          env: { ...process.env, BENCH_CHILD: server.url },
        },
      ),
    );
    const exited = children.map(
      (child) =>
        new Promise<void>((resolve, reject) =>
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}`)))),
        ),
    );
    await Promise.all(children.map((child) => new Promise((r) => child.stdout.once('data', r))));
    started = performance.now();
    for (const child of children) child.stdin.write('go\n');
    await Promise.all(exited);
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = await admin.info('commandstats');
  const line = (cmd: string) =>
    new RegExp(`^cmdstat_${cmd}:calls=(\\d+),usec=(\\d+),usec_per_call=([\\d.]+)`, 'm').exec(stats);
  const evalsha = line('evalsha');
  const evalCmd = line('eval');
  const seq = Number(await admin.get(`${PREFIX}:audit:seq`));
  const settings = {
    env: envSchema.parse({ LASTDAY_PREFIX: PREFIX, LOG_LEVEL: 'silent', ...keyEnv() }),
    config: parseConfig({}),
  };
  const ctx = await createContext({
    settings,
    redisUrl: server.url,
    log: createLogger('silent'),
    connectors: false,
  });
  const verifyStarted = performance.now();
  const verify = await ctx.audit.verify();
  const verifyMs = performance.now() - verifyStarted;
  await ctx.close();
  const totalUsec = Number(evalsha?.[2] ?? 0) + Number(evalCmd?.[2] ?? 0);
  const calls = Number(evalsha?.[1] ?? 0) + Number(evalCmd?.[1] ?? 0);
  console.log(
    JSON.stringify({
      entries: seq,
      concurrency,
      processes,
      keyed: Boolean(process.env.LASTDAY_AUDIT_KEY),
      seconds: Number(seconds.toFixed(2)),
      entriesPerSecond: Math.round(seq / seconds),
      scriptCalls: calls,
      evalshaUsecPerCall: Number(evalsha?.[3] ?? 0),
      redisUsecPerEntry: Number((totalUsec / seq).toFixed(1)),
      verifyOk: verify.ok,
      verifyMs: Math.round(verifyMs),
    }),
  );
} finally {
  admin.disconnect();
  await server.stop();
}
