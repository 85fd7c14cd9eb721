/**
 * `npx tsx bench/commandStats.ts [N] [--days D]`: Redis commands and round trips
 * per HR event. Starts its own redis-server, applies N `contract.ending` events
 * (last day D days ahead, default 60) through a lastday worker, and prints the
 * INFO commandstats delta divided by N, scripts' inner commands included, plus
 * the same for N plain BullMQ no-op jobs.
 */
import { parseArgs } from 'node:util';
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
import { type CommandStat, commandStats, startBenchRedis } from './lib/redis.ts';

const { values, positionals } = parseArgs({
  options: { days: { type: 'string', default: '60' } },
  allowPositionals: true,
});
const n = Number(positionals[0] ?? 2000);

function delta(before: Map<string, CommandStat>, after: Map<string, CommandStat>, per: number) {
  const rows = [...after].map(
    ([cmd, { calls }]) => [cmd, (calls - (before.get(cmd)?.calls ?? 0)) / per] as const,
  );
  const shown = rows.filter(([, v]) => v >= 0.01).sort((a, b) => b[1] - a[1]);
  const total = shown.reduce((a, [, v]) => a + v, 0);
  // Round trips: what the client sent (scripts count once), not what ran inside them.
  const inner = new Set(['evalsha', 'eval', 'exec', 'multi']);
  return {
    total: Math.round(total * 10) / 10,
    commands: Object.fromEntries(shown.map(([c, v]) => [c, Math.round(v * 100) / 100])),
    inner,
  };
}

const server = await startBenchRedis();
const admin = new Redis(server.url);
try {
  const prefix = benchPrefix('cmdstats');
  let before = await commandStats(admin);
  await noopThroughput(server.url, `${prefix}-base`, n, 20);
  let after = await commandStats(admin);
  const base = delta(before, after, n);

  const rt = await startLastday(server.url, benchSettings(prefix));
  const driver = driverRedis(server.url);
  const queue = hrEventsQueue(driver, prefix);
  const lastDay = DateTime.utc()
    .plus({ days: Number(values.days) })
    .toISODate()!;
  const events = Array.from({ length: n }, (_, i) => benchEvent(`cs-${i}`, { lastDay }));
  // Settle the workers' idle polling out of the window as far as possible.
  before = await commandStats(admin);
  await applyEvents(rt, queue, events, 50);
  after = await commandStats(admin);
  const lastday = delta(before, after, n);
  await rt.stop();
  await queue.close();
  driver.disconnect();
  console.log(
    JSON.stringify(
      {
        events: n,
        lastDayInDays: Number(values.days),
        perEvent: lastday.total,
        perNoopJob: base.total,
        lastday: lastday.commands,
        baseline: base.commands,
      },
      null,
      1,
    ),
  );
} finally {
  admin.disconnect();
  await server.stop();
}
