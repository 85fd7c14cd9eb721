/**
 * The bench's own redis-server (free port, temporary dir, no persistence), plus
 * the few Redis reads the cases need. Never touches a Redis it did not start.
 */
import type { RedisClient } from '../../src/queues/connection.ts';
import { startTestRedis, type TestRedis } from '../../test/helpers/redisServer.ts';

export type BenchRedis = TestRedis;

export function startBenchRedis(): Promise<BenchRedis> {
  return startTestRedis({ appendonly: false });
}

/** `used_memory` from INFO memory, in bytes. */
export async function usedMemory(redis: RedisClient): Promise<number> {
  const info = await redis.info('memory');
  const match = /^used_memory:(\d+)/m.exec(info);
  if (!match) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

/** `redis-server` version string, for the results file. */
export async function redisVersion(redis: RedisClient): Promise<string> {
  const info = await redis.info('server');
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}

/** CPU spent over a window: this process's (the workers run in it) and the redis-server's. */
export interface CpuSpent {
  nodeMs: number;
  /** Of nodeMs, the kernel's (system) part. */
  nodeSysMs: number;
  redisMs: number;
}

/**
 * Starts measuring CPU: call the returned function at the window's end. Under
 * a machine loaded by others, latency is noisy; CPU per unit of work is not.
 */
export async function cpuWindow(redis: RedisClient): Promise<() => Promise<CpuSpent>> {
  const node = process.cpuUsage();
  const redisStart = await redisCpuMs(redis);
  return async () => {
    const spent = process.cpuUsage(node);
    return {
      nodeMs: (spent.user + spent.system) / 1000,
      nodeSysMs: spent.system / 1000,
      redisMs: (await redisCpuMs(redis)) - redisStart,
    };
  };
}

/** `used_cpu_sys` + `used_cpu_user` of INFO cpu, in ms. */
async function redisCpuMs(redis: RedisClient): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1000;
}

/** One command's totals from INFO commandstats (a script's inner calls count under their own names). */
export interface CommandStat {
  calls: number;
  usec: number;
}

/** INFO commandstats, by command name. */
export async function commandStats(redis: RedisClient): Promise<Map<string, CommandStat>> {
  const out = new Map<string, CommandStat>();
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}
