/**
 * A private Redis Cluster for tests, in the style of redisServer.ts: six
 * redis-server processes on loopback (3 masters + 3 replicas, AOF on, node
 * timeout 1 s), created with `redis-cli --cluster create`, in a temp dir,
 * killed at the end. Needs `redis-server` and `redis-cli` (package redis-tools)
 * on PATH.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { clusterUrl } from '../../src/queues/connection.ts';

export interface ClusterNode {
  port: number;
  process: ChildProcess;
}

export interface TestCluster {
  /** `REDIS_CLUSTER_NODES` form: `127.0.0.1:p1,127.0.0.1:p2,…`. */
  nodes: string;
  /** What lastday passes around as its Redis URL for these nodes. */
  url: string;
  ports: number[];
  dir: string;
  /** Milliseconds from the first spawn to cluster_state:ok on every node and replicas in sync. */
  startMs: number;
  /** The port of the master that owns `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** kill -9 of one node. */
  kill(port: number): void;
  /** Resolves once another node is master of `key`'s slot and the cluster is ok; returns its port. */
  waitForPromotion(key: string, deadPort: number, timeoutMs?: number): Promise<number>;
  /** A plain connection to one node (the caller disconnects it). */
  node(port: number): Redis;
  stop(): Promise<void>;
}

const NODE_COUNT = 6;

/** A port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await canListen(port)) && (await canListen(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * `ask` of the node on `port` over a connection of its own that never retries
 * (a node may be down or not up yet); undefined when the node does not answer.
 */
async function askNode<T>(port: number, ask: (r: Redis) => Promise<T>): Promise<T | undefined> {
  const r = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await ask(r);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

async function clusterState(port: number): Promise<string> {
  return (await askNode(port, async (r) => String(await r.call('CLUSTER', 'INFO')))) ?? '';
}

async function replicationInfo(port: number): Promise<string> {
  return (await askNode(port, (r) => r.info('replication'))) ?? '';
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`test cluster: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function slotOwnerPort(ports: number[], key: string): Promise<number | undefined> {
  for (const port of ports) {
    // A dead node answers nothing: ask the next one.
    const owner = await askNode(port, async (r) => {
      const slot = Number(await r.call('CLUSTER', 'KEYSLOT', key));
      const slots = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      return range ? Number(range[2][1]) : undefined;
    });
    if (owner !== undefined) return owner;
  }
  return undefined;
}

export async function startTestCluster(options: { appendonly?: boolean } = {}): Promise<TestCluster> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'lastday-test-cluster-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < NODE_COUNT; i++) ports.push(await freeClusterPort(taken));
  const children = new Map<number, ChildProcess>();
  for (const port of ports) {
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir);
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        nodeDir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '1000',
        '--appendonly',
        options.appendonly === false ? 'no' : 'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    children.set(port, child);
  }
  const stop = () =>
    Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    ).then(() => rmSync(dir, { recursive: true, force: true }));
  try {
    await until(
      async () => (await Promise.all(ports.map(clusterState))).every(Boolean),
      10_000,
      'nodes listening',
    );
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
    await until(
      async () => (await Promise.all(ports.map(clusterState))).every((s) => s.includes('cluster_state:ok')),
      15_000,
      'cluster_state:ok on every node',
    );
    // And every replica in sync with its master (WAIT counts online replicas only).
    await until(
      async () =>
        (await Promise.all(ports.map(replicationInfo))).every(
          (info) => info.includes('role:master') || info.includes('master_link_status:up'),
        ),
      15_000,
      'replicas in sync',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = ports.map((p) => `127.0.0.1:${p}`).join(',');
  const live = () =>
    ports.filter((p) => children.get(p)?.exitCode === null && children.get(p)?.signalCode === null);
  return {
    nodes,
    url: clusterUrl(nodes),
    ports,
    dir,
    startMs: Date.now() - started,
    async masterOf(key) {
      const port = await slotOwnerPort(live(), key);
      if (port === undefined) throw new Error(`no master owns the slot of ${key}`);
      return port;
    },
    kill(port) {
      children.get(port)?.kill('SIGKILL');
    },
    async waitForPromotion(key, deadPort, timeoutMs = 15_000) {
      let owner: number | undefined;
      await until(
        async () => {
          owner = await slotOwnerPort(live(), key);
          if (owner === undefined || owner === deadPort) return false;
          return (await clusterState(owner)).includes('cluster_state:ok');
        },
        timeoutMs,
        'promotion of a replica',
      );
      return owner!;
    },
    node(port) {
      return new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    },
    stop,
  };
}
