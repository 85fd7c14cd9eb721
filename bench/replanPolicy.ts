/**
 * Measures the reconcile pass that follows a policy change (issue #13 item 3)
 * for N people (default 10,000) on a private redis-server.
 *
 *   npx tsx bench/replanPolicy.ts [N]
 *
 * N people are planned under the default policy (last days spread over the
 * next year, every milestone job present), then:
 *   1. a reconcile under the same policy: nothing to replan (the baseline);
 *   2. a holiday added 30 days ahead: every plan's stamp is out of date; those
 *      whose notice or reduce spans the holiday move (new version, new jobs,
 *      an audit entry each), the others take the new stamp;
 *   3. a second pass under the new policy: nothing to do.
 * Not a test: timings depend on the machine. Prints one JSON line per step.
 */
import { DateTime } from 'luxon';
import { reconcile } from '../jobs/ops/reconcile.ts';
import { type Context, createContext } from '../src/app/context.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { envSchema } from '../src/config/env.ts';
import { parseConfig } from '../src/config/load.ts';
import { startTestRedis } from '../test/helpers/redisServer.ts';
import { seedPlanned } from './lib/lastday.ts';

const N = Number(process.argv[2] ?? 10_000);
const redis = await startTestRedis();
const now = DateTime.utc();
// A weekday 30 days ahead, inside many plans' notice and reduce windows.
let holiday = now.plus({ days: 30 });
while (holiday.weekday > 5) holiday = holiday.plus({ days: 1 });

const open = (policy: Record<string, unknown>) =>
  createContext({
    settings: {
      env: envSchema.parse({ LASTDAY_PREFIX: 'bench-replan', LOG_LEVEL: 'silent' }),
      config: parseConfig({ policy }),
    },
    redisUrl: redis.url,
    log: createLogger('silent'),
  });
const rss = () => Math.round(process.memoryUsage().rss / 1e6);

const before = await open({});
let after: Context | undefined;
try {
  let t = Date.now();
  await seedPlanned(before, N, now);
  console.log(JSON.stringify({ step: 'seed', people: N, ms: Date.now() - t }));

  const run = async (step: string, ctx: Context) => {
    const rssBefore = rss();
    t = Date.now();
    const result = await reconcile(ctx);
    const { scanned, replanned, restamped, replanDeferred, rescheduled, errors } = result;
    console.log(
      JSON.stringify({
        step,
        ms: Date.now() - t,
        rssBeforeMB: rssBefore,
        rssAfterMB: rss(),
        result: { scanned, replanned, restamped, replanDeferred, rescheduled, errors },
      }),
    );
  };

  await run('1: same policy, nothing to replan', before);
  after = await open({ holidays: [holiday.toISODate()] });
  await run(`2: holiday ${holiday.toISODate()} added`, after);
  await run('3: second pass under the new policy', after);
  const audited = await after.redis.xlen(after.keys.auditLog);
  console.log(JSON.stringify({ step: 'audit entries', count: audited }));
} finally {
  await after?.close();
  await before.close();
  await redis.stop();
}
