/**
 * `npm run bench [-- --quick] [-- --case NAME]`: starts its own redis-server (free
 * port, no persistence), runs each case with its plain BullMQ baseline, prints
 * a table and writes bench/results/latest.json. It measures; it does not gate:
 * the exit code is 0 whether goals hold or not (1 only for a usage error).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { CASES } from './cases/index.ts';
import { redisVersion, startBenchRedis } from './lib/redis.ts';
import { renderTable, type Outcome } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    case: { type: 'string', multiple: true },
    out: { type: 'string', default: new URL('./results/latest.json', import.meta.url).pathname },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    `usage: npm run bench -- [--quick] [--case NAME ...] [--out FILE]\ncases: ${CASES.map((c) => c.name).join(', ')}`,
  );
  process.exit(0);
}
const wanted = values.case ?? [];
const unknown = wanted.filter((w) => !CASES.some((c) => c.name === w));
if (unknown.length > 0) {
  console.error(`unknown case ${unknown.join(', ')}; cases: ${CASES.map((c) => c.name).join(', ')}`);
  process.exit(1);
}
const selected = wanted.length > 0 ? CASES.filter((c) => wanted.includes(c.name)) : CASES;
const progress = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const redis = await startBenchRedis();
const admin = new Redis(redis.url);
const outcomes: Outcome[] = [];
const startedAt = new Date();
const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
try {
  // The bench owns this server; cases use their own prefixes and share the
  // later-population (lib/population.ts), so the database is not flushed between them.
  progress(`redis-server ${await redisVersion(admin)} on ${redis.url}${values.quick ? ' (quick)' : ''}`);
  for (const bench of selected) {
    if (bench.unavailable) {
      outcomes.push({ bench });
      continue;
    }
    const t0 = performance.now();
    try {
      const result = await bench.run({ redisUrl: redis.url, quick: values.quick, progress });
      outcomes.push({ bench, result });
      writeResults(true);
      progress(`${bench.name}: ${result.verdict} (${Math.round((performance.now() - t0) / 1000)} s)`);
    } catch (err) {
      outcomes.push({ bench, error: (err as Error).message });
      progress(`${bench.name}: error: ${(err as Error).stack}`);
    }
  }
} finally {
  admin.disconnect();
  await redis.stop();
}

function machineInfo() {
  return {
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 1e9),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}
const machine = machineInfo();
console.log(renderTable(outcomes));
for (const { bench, result } of outcomes)
  for (const note of result?.notes ?? []) console.log(`(${bench.number}) ${note}`);
console.log(
  `machine: ${machine.cpus} cpus (${machine.cpuModel}), ${machine.memoryGB} GB, node ${machine.node}; ` +
    `load average at start ${loadAtStart.join(' ')}, at end ${machine.loadAverage.join(' ')}`,
);

writeResults(false);
console.log(`results: ${values.out}`);
process.exit(0);

/** Written after every case too, so a long run that is stopped keeps what it measured. */
function writeResults(partial: boolean): void {
  const machine = machineInfo();
  mkdirSync(new URL('./results/', import.meta.url).pathname, { recursive: true });
  writeFileSync(
    values.out,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        quick: values.quick,
        partial,
        loadAverageAtStart: loadAtStart,
        machine,
        cases: outcomes.map(({ bench, result, error }) => ({
          name: bench.name,
          number: bench.number,
          title: bench.title,
          goal: bench.goal,
          ...(bench.unavailable ? { status: 'unavailable', reason: bench.unavailable } : {}),
          ...(error ? { status: 'error', error } : {}),
          ...(result ? { status: 'measured', ...result } : {}),
        })),
      },
      null,
      2,
    )}\n`,
  );
}
