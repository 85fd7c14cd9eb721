/**
 * `node --cpu-prof --import tsx bench/profileIngest.ts [N] [--baseline]`: the
 * ingest case's lastday half alone (own redis-server, N `contract.ending`
 * events 60 days out), for a CPU profile of the HR event path without the
 * baseline in it; `--baseline` runs N plain BullMQ no-op jobs instead. Prints
 * the rate, Node CPU µs per event (process.cpuUsage) and Redis CPU µs per
 * event (the server's used_cpu_sys + used_cpu_user).
 */
import { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { noopThroughput } from './lib/baseline.ts';
import {
  benchEvent,
  benchPrefix,
  benchSettings,
  driverRedis,
  enqueueEvents,
  hrEventsQueue,
  startLastday,
  unfinished,
  waitUntil,
} from './lib/lastday.ts';
import { startBenchRedis } from './lib/redis.ts';

const n = Number(process.argv[2] ?? 4000);
const baselineOnly = process.argv.includes('--baseline');

async function redisCpuUs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
  return (sys + user) * 1e6;
}

/** Redis µs per command name (INFO commandstats `usec`), scripts' inner commands included. */
async function commandUsec(admin: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[3]));
  }
  return out;
}

async function lastdayEvents(url: string, prefix: string): Promise<void> {
  const rt = await startLastday(url, benchSettings(prefix));
  const driver = driverRedis(url);
  const queue = hrEventsQueue(driver, prefix);
  try {
    const lastDay = DateTime.utc().plus({ days: 60 }).toISODate()!;
    const events = Array.from({ length: n }, (_, i) => benchEvent(`pf-${i}`, { lastDay }));
    await enqueueEvents(queue, events);
    await waitUntil(
      'applied',
      async () => (await unfinished(queue)) === 0 && (await rt.ctx.people.count()) >= n,
      600_000,
      20,
    );
  } finally {
    await rt.stop();
    await queue.close();
    driver.disconnect();
  }
}

const server = await startBenchRedis();
const admin = new Redis(server.url);
try {
  const prefix = benchPrefix('profile');
  const redisBefore = await redisCpuUs(admin);
  const usecBefore = await commandUsec(admin);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  if (baselineOnly) await noopThroughput(server.url, `${prefix}-base`, n, 20);
  else await lastdayEvents(server.url, prefix);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const redisUs = (await redisCpuUs(admin)) - redisBefore;
  const usec = [...(await commandUsec(admin))]
    .map(([cmd, us]) => [cmd, Math.round((10 * (us - (usecBefore.get(cmd) ?? 0))) / n) / 10] as const)
    .filter(([, us]) => us >= 1)
    .sort((a, b) => b[1] - a[1]);
  console.log(
    JSON.stringify({
      what: baselineOnly ? 'no-op jobs' : 'events',
      n,
      perSecond: Math.round(n / seconds),
      nodeCpuUsPer: Math.round((cpu.user + cpu.system) / n),
      redisCpuUsPer: Math.round(redisUs / n),
      commandUsPer: Object.fromEntries(usec),
    }),
  );
} finally {
  admin.disconnect();
  await server.stop();
}
