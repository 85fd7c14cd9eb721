/** REDIS_CLUSTER_NODES: exclusive with REDIS_URL, validated, and a hash-tagged prefix on a cluster. */
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.ts';
import { configErrors } from '../helpers/config.ts';
import { clusterSeeds, clusterUrl } from '../../src/queues/connection.ts';

describe('Redis Cluster environment', () => {
  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together with one line', () => {
    const lines = configErrors({
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      REDIS_CLUSTER_NODES: '127.0.0.1:7000',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^REDIS_CLUSTER_NODES: .*REDIS_URL.*not both/);
  });

  it('refuses seeds that are not host:port', () => {
    expect(configErrors({ REDIS_CLUSTER_NODES: '127.0.0.1' })[0]).toMatch(/^REDIS_CLUSTER_NODES: expected/);
    expect(configErrors({ REDIS_CLUSTER_NODES: 'a:1,,b:2' })[0]).toMatch(/^REDIS_CLUSTER_NODES/);
  });

  it('hash-tags the prefix on a cluster, keeps an already tagged one, leaves a single Redis alone', () => {
    expect(loadSettings({ REDIS_CLUSTER_NODES: 'h1:7000, h2:7001' }).env.LASTDAY_PREFIX).toBe('{lastday}');
    expect(loadSettings({ REDIS_CLUSTER_NODES: 'h1:7000', LASTDAY_PREFIX: 'acme' }).env.LASTDAY_PREFIX).toBe(
      '{acme}',
    );
    expect(
      loadSettings({ REDIS_CLUSTER_NODES: 'h1:7000', LASTDAY_PREFIX: '{acme}' }).env.LASTDAY_PREFIX,
    ).toBe('{acme}');
    expect(loadSettings({}).env.LASTDAY_PREFIX).toBe('lastday');
    expect(loadSettings({}).env.LASTDAY_REPLICA_WAIT_MS).toBe(1000);
  });

  it('passes the seeds around as one connection string', () => {
    const url = clusterUrl(' h1:7000, h2:7001 ,');
    expect(url).toBe('redis-cluster://h1:7000,h2:7001');
    expect(clusterSeeds(url)).toEqual([
      { host: 'h1', port: 7000 },
      { host: 'h2', port: 7001 },
    ]);
    expect(clusterSeeds('redis://127.0.0.1:6379/0')).toBeUndefined();
  });
});
