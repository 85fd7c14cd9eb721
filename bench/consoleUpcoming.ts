/**
 * `npx tsx bench/consoleUpcoming.ts [--people 10000] [--runs 10]`: the time to
 * render the console's Upcoming page (GET /console, next 90 days) with that
 * many people leaving, measured end to end over HTTP by a signed-in client on
 * this machine: its own redis-server, the API only. Prints JSON.
 */
import { parseArgs } from 'node:util';
import { ConsoleClient } from '../test/helpers/console.ts';
import { startBenchRedis } from './lib/redis.ts';
import { addLeavers, DEMO_TOKENS, startConsoleDemo } from './lib/consoleDemo.ts';

const { values } = parseArgs({
  options: { people: { type: 'string', default: '10000' }, runs: { type: 'string', default: '10' } },
});
const people = Number(values.people);
const runs = Number(values.runs);

const redis = await startBenchRedis();
const rt = await startConsoleDemo(redis.url, 'bench-console');
try {
  const t0 = performance.now();
  await addLeavers(rt, people);
  const writeMs = performance.now() - t0;
  const c = new ConsoleClient(rt.url!);
  await c.signIn(DEMO_TOKENS.viewer);
  const measure = async (path: string) => {
    const times: number[] = [];
    let bytes = 0;
    await c.get(path); // warm-up: template compile, first Redis reads
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const page = await c.get(path);
      times.push(performance.now() - started);
      if (page.status !== 200) throw new Error(`${path}: ${page.status}`);
      bytes = page.html.length;
    }
    times.sort((a, b) => a - b);
    const q = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))]!);
    return { path, medianMs: q(0.5), p90Ms: q(0.9), maxMs: Math.round(times.at(-1)!), htmlBytes: bytes };
  };
  const results = [
    await measure('/console'),
    await measure('/console?page=20'),
    await measure('/console?employment=employee&status=scheduled'),
    await measure('/console?q=p-09999'),
  ];
  console.log(JSON.stringify({ people, runs, writeMs: Math.round(writeMs), results }, null, 2));
} finally {
  await rt.stop();
  await redis.stop();
}
