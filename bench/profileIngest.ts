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
  applyEvents,
  benchEvent,
  benchPrefix,
  benchSettings,
  driverRedis,
  hrEventsQueue,
  startLastday,
} from './lib/lastday.ts';
import { benchArgs } from './lib/args.ts';
import { commandStats, cpuWindow, startBenchRedis } from './lib/redis.ts';

const args = benchArgs();
const n = args.number(0, 4000);
const baselineOnly = args.flag('--baseline');

async function lastdayEvents(url: string, prefix: string): Promise<void> {
  const rt = await startLastday(
    url,
    benchSettings(prefix, process.env.EC ? { workers: { eventConcurrency: Number(process.env.EC) } } : {}),
  );
  const driver = driverRedis(url);
  const queue = hrEventsQueue(driver, prefix);
  try {
    const lastDay = DateTime.utc().plus({ days: 60 }).toISODate()!;
    const events = Array.from({ length: n }, (_, i) => benchEvent(`pf-${i}`, { lastDay }));
    await applyEvents(rt, queue, events);
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
  const usecBefore = await commandStats(admin);
  const cpu = await cpuWindow(admin);
  const started = performance.now();
  const ru0 = process.resourceUsage();
  if (baselineOnly) await noopThroughput(server.url, `${prefix}-base`, n, Number(process.env.EC ?? 20));
  else await lastdayEvents(server.url, prefix);
  const seconds = (performance.now() - started) / 1000;
  const spent = await cpu();
  const ru1 = process.resourceUsage();
  const usec = [...(await commandStats(admin))]
    .map(
      ([cmd, { usec: us }]) =>
        [cmd, Math.round((10 * (us - (usecBefore.get(cmd)?.usec ?? 0))) / n) / 10] as const,
    )
    .filter(([, us]) => us >= 1)
    .sort((a, b) => b[1] - a[1]);
  console.log(
    JSON.stringify({
      what: baselineOnly ? 'no-op jobs' : 'events',
      n,
      perSecond: Math.round(n / seconds),
      nodeCpuUsPer: Math.round((spent.nodeMs * 1000) / n),
      nodeSysUsPer: Math.round((spent.nodeSysMs * 1000) / n),
      involuntarySwitchesPer:
        Math.round((100 * (ru1.involuntaryContextSwitches - ru0.involuntaryContextSwitches)) / n) / 100,
      voluntarySwitchesPer:
        Math.round((100 * (ru1.voluntaryContextSwitches - ru0.voluntaryContextSwitches)) / n) / 100,
      redisCpuUsPer: Math.round((spent.redisMs * 1000) / n),
      commandUsPer: Object.fromEntries(usec),
    }),
  );
} finally {
  admin.disconnect();
  await server.stop();
}
