/**
 * Measures a reconcile of N people (default 100,000) on a private redis-server.
 *
 *   npx tsx bench/reconcile.ts [N]
 *
 * Scenarios, each on the same population:
 *   1. every person planned (last days spread over the next year), every
 *      milestone job present: a reconcile that finds nothing to repair;
 *   2. 1 % of the people lost all their jobs: the same pass repairs them;
 *   3. every person done (verified): the steady state of a long-running install;
 * and the overdue check over the planned population.
 * Not a test: timings depend on the machine. Prints one JSON line per scenario.
 */
import { DateTime } from 'luxon';
import { createContext } from '../src/app/context.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { envSchema } from '../src/config/env.ts';
import { parseConfig } from '../src/config/load.ts';
import { encodePerson } from '../src/store/personCodec.ts';
import { milestoneJobId } from '../src/queues/names.ts';
import { checkOverdue } from '../jobs/ops/overdue.ts';
import { reconcile } from '../jobs/ops/reconcile.ts';
import { startTestRedis } from '../test/helpers/redisServer.ts';
import { seedPlanned } from './lib/lastday.ts';

const N = Number(process.argv[2] ?? 100_000);
const redis = await startTestRedis();
const settings = {
  env: envSchema.parse({ LASTDAY_PREFIX: 'bench', LOG_LEVEL: 'silent' }),
  config: parseConfig({}),
};
const ctx = await createContext({ settings, redisUrl: redis.url, log: createLogger('silent') });
const now = DateTime.utc();
const rss = () => Math.round(process.memoryUsage().rss / 1e6);

try {
  // Seed: records straight into the store's keys (the bench measures reconcile, not intake).
  let t = Date.now();
  await seedPlanned(ctx, N, now);
  const jobs = await ctx.queues.milestones.getJobCounts('delayed', 'waiting');
  console.log(JSON.stringify({ step: 'seed', people: N, jobs, ms: Date.now() - t, redisMB: await usedMB() }));

  const run = async (scenario: string) => {
    const before = rss();
    t = Date.now();
    const result = await reconcile(ctx);
    console.log(
      JSON.stringify({ scenario, ms: Date.now() - t, rssBeforeMB: before, rssAfterMB: rss(), result }),
    );
  };

  await run('1: all planned, nothing to repair');

  const lost = Math.floor(N / 100);
  for (let i = 0; i < lost; i++) {
    const id = `person-${i * 100}`;
    await Promise.all(
      (['notice', 'reduce', 'freeze', 'revoke', 'verify'] as const).map((m) =>
        ctx.queues.milestones.remove(milestoneJobId(id, 1, m)),
      ),
    );
  }
  await run(`2: ${lost} people lost their jobs`);

  // The overdue check walks the same population every minute by default.
  t = Date.now();
  const overdue = await checkOverdue(ctx, 15);
  console.log(
    JSON.stringify({ scenario: 'overdue check, all planned', ms: Date.now() - t, count: overdue.count }),
  );

  // Everyone done: mark all milestones done in place.
  t = Date.now();
  for await (const ids of ctx.people.scanIds(2_000)) {
    const p = ctx.redis.pipeline();
    for (const r of await ctx.people.getMany(ids)) {
      const done = {
        ...r,
        milestones: r.milestones.map((m) => ({ ...m, state: 'done' as const, doneAt: m.dueAt })),
      };
      p.set(ctx.keys.person(r.person.id), encodePerson(done));
    }
    await p.exec();
  }
  await run('3: all verified');
} finally {
  await ctx.close();
  await redis.stop();
}

async function usedMB(): Promise<number> {
  const info = await ctx.redis.info('memory');
  return Math.round(Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1e6);
}
