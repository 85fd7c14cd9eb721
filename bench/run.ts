/**
 * `npm run bench [-- --quick] [-- --case NAME]` (`--only NAME` is the same): starts its own redis-server (free
 * port, no persistence), runs each case with its plain BullMQ baseline, prints
 * a table and writes bench/results/latest.json. It measures; it does not gate:
 * the exit code is 0 whether goals hold or not (1 only for a usage error).
 *
 * `--cluster` also starts a 3-master Redis Cluster on loopback (3 replicas, no
 * persistence, test/helpers/redisCluster.ts) and runs each selected case
 * (default: ingest and on-time) on the single Redis and then on the cluster, in
 * the same run, with the keys each master holds afterwards.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startTestCluster, type TestCluster } from '../test/helpers/redisCluster.ts';
import { CASES } from './cases/index.ts';
import { redisVersion, startBenchRedis } from './lib/redis.ts';
import { renderTable, type Outcome } from './lib/table.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    case: { type: 'string', multiple: true },
    /** The same as --case. */
    only: { type: 'string', multiple: true },
    cluster: { type: 'boolean', default: false },
    out: { type: 'string', default: new URL('./results/latest.json', import.meta.url).pathname },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    `usage: npm run bench -- [--quick] [--cluster] [--case NAME ...] [--only NAME ...] [--out FILE]\ncases: ${CASES.map((c) => c.name).join(', ')}`,
  );
  process.exit(0);
}
const wanted = [...(values.case ?? []), ...(values.only ?? [])];
const unknown = wanted.filter((w) => !CASES.some((c) => c.name === w));
if (unknown.length > 0) {
  console.error(`unknown case ${unknown.join(', ')}; cases: ${CASES.map((c) => c.name).join(', ')}`);
  process.exit(1);
}
const CLUSTER_CASES = ['ingest', 'on-time'];
const selected =
  wanted.length > 0
    ? CASES.filter((c) => wanted.includes(c.name))
    : values.cluster
      ? CASES.filter((c) => CLUSTER_CASES.includes(c.name))
      : CASES;
const progress = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const redis = await startBenchRedis();
const admin = new Redis(redis.url);
const outcomes: Outcome[] = [];
let cluster: TestCluster | undefined;
let clusterInfo:
  | { startMs: number; keysPerMaster: Record<string, number>; partitionKeysPerMaster: Record<string, number> }
  | undefined;
const startedAt = new Date();
const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
try {
  // The bench owns this server; cases use their own prefixes and share the
  // later-population (lib/population.ts), so the database is not flushed between them.
  progress(`redis-server ${await redisVersion(admin)} on ${redis.url}${values.quick ? ' (quick)' : ''}`);
  if (values.cluster) {
    cluster = await startTestCluster({ appendonly: false });
    clusterInfo = { startMs: cluster.startMs, keysPerMaster: {}, partitionKeysPerMaster: {} };
    progress(`redis cluster (3 masters + 3 replicas) on ${cluster.nodes}, up in ${cluster.startMs} ms`);
  }
  const targets = [{ url: redis.url, label: '' }];
  if (cluster) targets.push({ url: cluster.url, label: ' [cluster, 3 masters]' });
  for (const bench of selected) {
    for (const target of targets) {
      const shown = { ...bench, title: `${bench.title}${target.label}` };
      const t0 = performance.now();
      try {
        const result = await bench.run({ redisUrl: target.url, quick: values.quick, progress });
        outcomes.push({ bench: shown, result });
        writeResults(true);
        progress(`${shown.title}: ${result.verdict} (${Math.round((performance.now() - t0) / 1000)} s)`);
      } catch (err) {
        outcomes.push({ bench: shown, error: (err as Error).message });
        progress(`${shown.title}: error: ${(err as Error).stack}`);
      }
    }
  }
  if (cluster && clusterInfo) {
    const counted = await keysPerMaster(cluster);
    clusterInfo.keysPerMaster = counted.all;
    clusterInfo.partitionKeysPerMaster = counted.partitions;
  }
} finally {
  admin.disconnect();
  await redis.stop();
  await cluster?.stop();
}

/**
 * Keys on each master (the nodes that own slots): all of them (DBSIZE), and
 * those of lastday's partitions only (`{<prefix>:<p>}…`, not the global
 * `{<prefix>}` slot of intake, nor intake's per-id keys, nor the baselines).
 */
async function keysPerMaster(
  c: TestCluster,
): Promise<{ all: Record<string, number>; partitions: Record<string, number> }> {
  const all: Record<string, number> = {};
  const partitions: Record<string, number> = {};
  for (const port of c.ports) {
    const node = c.node(port);
    try {
      const role = String(await node.call('ROLE'));
      if (!role.startsWith('master')) continue;
      const name = `127.0.0.1:${port}`;
      all[name] = await node.dbsize();
      let n = 0;
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', '{*:*}*', 'COUNT', 1000);
        cursor = next;
        // Not intake's per-id keys (`{<prefix>:event:<id>}`, each in a slot of its own).
        n += keys.filter(
          (k) => /^\{[^}]*:[^}]*\}/.test(k) && !/^\{[^}:]*:(event|webhook-id):/.test(k),
        ).length;
      } while (cursor !== '0');
      partitions[name] = n;
    } finally {
      node.disconnect();
    }
  }
  return { all, partitions };
}

/** `a / b / c (max/min r)` of a per-master count. */
function spread(counts: Record<string, number>): string {
  const values = Object.values(counts);
  const ratio = Math.min(...values) > 0 ? (Math.max(...values) / Math.min(...values)).toFixed(2) : '∞';
  return `${values.join(' / ')} (max/min ${ratio})`;
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
if (clusterInfo) {
  console.log(
    `cluster: up in ${clusterInfo.startMs} ms; partitions' keys per master ${spread(clusterInfo.partitionKeysPerMaster)}; ` +
      `all keys per master ${spread(clusterInfo.keysPerMaster)} (the global slot of each case holds intake's queue ` +
      `and the plain-BullMQ baseline, on one master; event ids are spread)`,
  );
}
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
        ...(clusterInfo ? { cluster: clusterInfo } : {}),
        loadAverageAtStart: loadAtStart,
        machine,
        cases: outcomes.map(({ bench, result, error }) => ({
          name: bench.name,
          number: bench.number,
          title: bench.title,
          goal: bench.goal,
          ...(error ? { status: 'error', error } : {}),
          ...(result ? { status: 'measured', ...result } : {}),
        })),
      },
      null,
      2,
    )}\n`,
  );
}
