/**
 * `node bin/bench.js bench/profileOnTime.ts [N] [spreadS] [--concurrency C]
 * [--profile FILE]` (compiled dist/, as `npm run bench`): the
 * on-time case's lastday half alone (own redis-server, N people whose revoke
 * falls due over `spreadS` seconds, no far-future population), for a CPU
 * profile of the revoke path and a breakdown of lateness per revoke job:
 * instant → job started (BullMQ `processedOn`) → directory write (`disabledAt`)
 * → job finished (`finishedOn`). Prints Node and Redis CPU µs per revoke and
 * Redis commands per revoke (INFO commandstats, a script's inner calls counted
 * under their own names) over the window from before the first instant until
 * the last revoke is done.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { milestoneJobId } from '../src/queues/names.ts';
import {
  benchEvent,
  benchPrefix,
  benchSettings,
  driverRedis,
  enqueueEvents,
  hrEventsQueue,
  putLeavers,
  sleep,
  startLastday,
  unfinished,
  waitForDisabled,
  waitUntil,
  watchRevokeWrites,
} from './lib/lastday.ts';
import { benchArgs } from './lib/args.ts';
import { commandStats, cpuWindow, startBenchRedis } from './lib/redis.ts';
import { summarize } from './lib/stats.ts';

const args = benchArgs(['--profile', '--concurrency']);
const n = args.number(0, 2000);
const spreadS = args.number(1, 5);
/** `--profile FILE`: a CPU profile of the window only (not of the setup), written to FILE. */
const profileTo = args.option('--profile');
const concurrency = args.option('--concurrency');

const server = await startBenchRedis();
const admin = new Redis(server.url);
const prefix = benchPrefix('profile-ontime');
const rt = await startLastday(
  server.url,
  benchSettings(prefix, concurrency ? { workers: { milestoneConcurrency: Number(concurrency) } } : {}),
);
// When each directory revoke's reply reached Node: at or after the write itself.
const confirmed = watchRevokeWrites(rt.ctx);
const driver = driverRedis(server.url);
const queue = hrEventsQueue(driver, prefix);
try {
  const ids = Array.from({ length: n }, (_, i) => `soon-${i}`);
  await putLeavers(rt.ctx, ids);
  const startMs = Math.ceil((Date.now() + 10_000 + n * 5) / 1000) * 1000;
  const dueAt = ids.map((_, i) => startMs + Math.floor((i * spreadS) / n) * 1000);
  await enqueueEvents(
    queue,
    ids.map((id, i) => {
      const end = DateTime.fromMillis(dueAt[i]!, { zone: 'utc' });
      return benchEvent(id, { lastDay: end.toISODate()!, endTime: end.toFormat('HH:mm:ss') });
    }),
  );
  const milestones = rt.ctx.shardOf(ids[0]!).queues.milestones;
  await waitUntil(
    'events applied, past-due milestones run',
    async () => {
      for (let k = 0; k < 2; k++) {
        const c = await milestones.getJobCounts('waiting', 'active', 'prioritized');
        if ((await unfinished(queue)) > 0 || Object.values(c).some((v) => v > 0)) return false;
        await sleep(200);
      }
      return true;
    },
    600_000,
    100,
  );
  const headroomMs = startMs - Date.now();
  const done = async () =>
    (await rt.ctx.metrics.milestonesDone.get()).values.find((v) => v.labels.milestone === 'revoke')?.value ??
    0;
  const before = await done();
  await sleep(Math.max(0, startMs - Date.now() - 500));
  const stats = await commandStats(admin);
  const cpu = await cpuWindow(admin);
  const session = profileTo ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  await sleep(Math.max(0, dueAt[dueAt.length - 1]! - Date.now()));
  await waitUntil('revokes done', async () => (await done()) - before >= n, 600_000, 20);
  const spent = await cpu();
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileTo!, JSON.stringify(profile));
    session.disconnect();
  }
  const after = await commandStats(admin);
  const disabledAt = await waitForDisabled(
    driver,
    (id) => rt.ctx.shardOf(id).keys.directoryUser(id),
    ids,
    60_000,
  );
  const people = await Promise.all(ids.map((id) => rt.ctx.people.get(id)));
  const jobs = await Promise.all(
    ids.map((id, i) => milestones.getJob(milestoneJobId(id, people[i]!.planVersion, 'revoke'))),
  );
  const pick = (f: (i: number) => number) => summarize(ids.map((_, i) => f(i)).filter(Number.isFinite));
  const commands = [...after]
    .map(([cmd, s]) => [cmd, (s.calls - (stats.get(cmd)?.calls ?? 0)) / n] as const)
    .filter(([, c]) => c >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  console.log(
    JSON.stringify(
      {
        n,
        spreadS,
        headroomMs,
        lateness: pick((i) => disabledAt[i]! - dueAt[i]!),
        confirmedLateness: pick((i) => (confirmed.get(ids[i]!) ?? NaN) - dueAt[i]!),
        dueToStarted: pick((i) => (jobs[i]?.processedOn ?? NaN) - dueAt[i]!),
        startedToDisabledAt: pick((i) => disabledAt[i]! - (jobs[i]?.processedOn ?? NaN)),
        disabledAtToFinished: pick((i) => (jobs[i]?.finishedOn ?? NaN) - disabledAt[i]!),
        attemptsStarted: pick((i) => jobs[i]?.attemptsStarted ?? NaN),
        nodeCpuUsPerRevoke: Math.round((spent.nodeMs * 1000) / n),
        redisCpuUsPerRevoke: Math.round((spent.redisMs * 1000) / n),
        commandsPerRevoke: Math.round(10 * commands.reduce((a, [, c]) => a + c, 0)) / 10,
        commands: Object.fromEntries(commands.map(([c, v]) => [c, Math.round(v * 100) / 100])),
      },
      null,
      1,
    ),
  );
} finally {
  await rt.stop();
  await queue.close();
  driver.disconnect();
  admin.disconnect();
  await server.stop();
}
