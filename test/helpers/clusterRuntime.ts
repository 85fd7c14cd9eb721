/**
 * The cluster tests' one fixture: a private Redis Cluster (./redisCluster.ts)
 * and lastday's whole runtime on it with the guard tests' tokens and config
 * (./guard.ts), listening on a free port. Each file starts its own and stops
 * it after; settings for a second process on the same cluster come from
 * `clusterSettings`.
 */
import type { Settings } from '../../src/config/load.ts';
import { type Runtime, startRuntime } from '../../src/app/runtime.ts';
import { client, settings as guardSettings } from './guard.ts';
import { testLogger } from './lastday.ts';
import { startTestCluster, type TestCluster } from './redisCluster.ts';

export interface ClusterRuntime {
  cluster: TestCluster;
  /** The running lastday (replaced by `startLastday`). */
  rt: Runtime;
  /** A JSON client of `rt`'s API. */
  api: ReturnType<typeof client>;
  /** Stops lastday only (a `partitions move` wants it stopped); the cluster stays. */
  stopLastday(): Promise<void>;
  /** Starts lastday again on the same cluster, `env` added to the file's own. */
  startLastday(env?: Record<string, unknown>): Promise<Runtime>;
  /** Stops lastday, then the cluster. */
  stop(): Promise<void>;
}

export interface ClusterRuntimeOptions {
  /** `LASTDAY_PREFIX` as given to lastday (it hash-tags it on a cluster). */
  prefix: string;
  /** More environment (`LASTDAY_PARTITIONS`, `LASTDAY_HORIZON_HOURS`, …). */
  env?: Record<string, unknown>;
  /** Policy overrides for the guard tests' config. */
  policy?: Record<string, unknown>;
}

/** The guard tests' settings on `cluster` (REDIS_CLUSTER_NODES set), with `options`' prefix and env. */
export function clusterSettings(cluster: TestCluster, options: ClusterRuntimeOptions): Settings {
  const s = guardSettings(options.policy);
  s.env = {
    ...s.env,
    LASTDAY_PREFIX: options.prefix,
    REDIS_CLUSTER_NODES: cluster.nodes,
    ...options.env,
  } as Settings['env'];
  return s;
}

/** Starts lastday on `cluster` with `options` (its whole runtime, on a free port). */
function startOn(cluster: TestCluster, options: ClusterRuntimeOptions): Promise<Runtime> {
  const s = clusterSettings(cluster, options);
  return startRuntime({
    settings: s,
    redisUrl: cluster.url,
    log: testLogger(s.env.LOG_LEVEL),
    listen: { host: '127.0.0.1', port: 0 },
  });
}

/** Starts a 6-node cluster and lastday on it (call from `beforeAll`, with a 60 s timeout). */
export async function startClusterRuntime(options: ClusterRuntimeOptions): Promise<ClusterRuntime> {
  const cluster = await startTestCluster();
  let running: Runtime | undefined;
  try {
    running = await startOn(cluster, options);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const fixture: ClusterRuntime = {
    cluster,
    rt: running,
    api: client(running),
    async stopLastday() {
      await running?.stop();
      running = undefined;
    },
    async startLastday(env = {}) {
      await fixture.stopLastday();
      running = await startOn(cluster, { ...options, env: { ...options.env, ...env } });
      fixture.rt = running;
      fixture.api = client(running);
      return running;
    },
    async stop() {
      await fixture.stopLastday();
      await cluster.stop();
    },
  };
  return fixture;
}
