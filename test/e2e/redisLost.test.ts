/**
 * Redis goes away under a running lastday (what `docker compose down` does:
 * Redis and lastday are stopped at the same moment). The real process, on its
 * own redis-server:
 *
 * - logs the loss at a steady, low rate (one line when lost, then a reminder
 *   with backoff), not one line per retry per connection per worker;
 * - on SIGTERM, finishes within its shutdown bound whatever Redis does: the
 *   workers' graceful close waits on Redis forever, so past the bound it is
 *   forced (connections cut) and the exit code says so (1);
 * - when Redis comes back, says so once, resumes, and shuts down gracefully (0).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.ts';
import { eventually, testPrefix } from '../helpers/lastday.ts';
import { startTestRedis, type TestRedis } from '../helpers/redisServer.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastday-redis-lost-'));
const SHUTDOWN_BOUND_MS = 2_000;
const children: ChildProcess[] = [];
const servers: TestRedis[] = [];

afterAll(async () => {
  // Only what this file started, by its own handle.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

function startLastday(redisUrl: string) {
  const config = join(dir, `lastday-${children.length}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      workers: { shutdownTimeoutMs: SHUTDOWN_BOUND_MS },
      // Every cron runs each second, so every worker is busy with Redis when it goes.
      crons: {
        overdue: { pattern: '* * * * * *' },
        holdExpiry: { pattern: '* * * * * *' },
        reconcile: { pattern: '* * * * * *' },
      },
    }),
  );
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redisUrl,
      LASTDAY_PREFIX: testPrefix(),
      LASTDAY_CONFIG: config,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const text = partial + String(chunk);
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, lines, exited };
}

const msg = (line: string): string => {
  try {
    return String((JSON.parse(line) as { msg?: unknown }).msg);
  } catch {
    return line;
  }
};

describe('Redis lost under a running lastday', () => {
  it(
    'logs the loss a few times, not per retry, and SIGTERM exits within the bound',
    { timeout: 90_000 },
    async () => {
      const redis = await startTestRedis();
      servers.push(redis);
      const lastday = startLastday(redis.url);
      await eventually(async () => lastday.lines.some((l) => msg(l) === 'lastday running'), 60_000);
      // Let the crons tick so every worker has run at least once.
      await eventually(async () => lastday.lines.some((l) => msg(l) === 'ops task done'), 20_000);

      // Counted before the kill: the first loss line can arrive while stop() still waits
      // for the server's exit.
      const lostAt = lastday.lines.length;
      await redis.stop(); // SIGKILL: connections drop, reconnects are refused
      // A few seconds of outage: each of the process's ~10 connections retries
      // several times in that window.
      await new Promise((r) => setTimeout(r, 4_000));
      const whileDown = lastday.lines.slice(lostAt);
      const log = () => lastday.lines.join('\n');
      expect(
        whileDown.some((l) => /redis/i.test(msg(l)) && /lost|unreachable/i.test(msg(l))),
        log(),
      ).toBe(true);
      expect(whileDown.length, whileDown.join('\n')).toBeLessThanOrEqual(3);

      lastday.child.kill('SIGTERM');
      const exit = await Promise.race([
        lastday.exited,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), SHUTDOWN_BOUND_MS + 15_000)),
      ]);
      expect(exit, log()).not.toBe('hung');
      const { code } = exit as { code: number | null };
      // Forced: Redis never answered, so the graceful close could not finish.
      expect(code, log()).toBe(1);
      expect(
        lastday.lines.some((l) => /forc/i.test(msg(l))),
        log(),
      ).toBe(true);
      // And the shutdown itself did not spew either.
      const afterSignal = lastday.lines.slice(lostAt + whileDown.length);
      expect(afterSignal.length, afterSignal.join('\n')).toBeLessThanOrEqual(6);
    },
  );

  it(
    'says once when Redis is back, keeps working, and then shuts down gracefully',
    { timeout: 90_000 },
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'lastday-redis-back-'));
      let redis = await startTestRedis({ dir: dataDir, appendonly: true });
      servers.push(redis);
      const lastday = startLastday(redis.url);
      const log = () => lastday.lines.join('\n');
      await eventually(async () => lastday.lines.some((l) => msg(l) === 'ops task done'), 60_000);

      await redis.stop();
      await eventually(async () => lastday.lines.some((l) => /redis connection lost/.test(msg(l))), 20_000);
      redis = await startTestRedis({ dir: dataDir, port: redis.port, appendonly: true });
      servers.push(redis);
      const backAt = await eventually(async () => {
        const i = lastday.lines.findIndex((l) => msg(l) === 'redis connection back');
        return i >= 0 ? i + 1 : undefined;
      }, 30_000);
      // The workers resumed: the per-second crons run again.
      await eventually(
        async () => lastday.lines.slice(backAt).some((l) => msg(l) === 'ops task done'),
        30_000,
      );
      expect(
        lastday.lines.filter((l) => msg(l) === 'redis connection back'),
        log(),
      ).toHaveLength(1);

      lastday.child.kill('SIGTERM');
      const exit = await Promise.race([
        lastday.exited,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), SHUTDOWN_BOUND_MS + 15_000)),
      ]);
      expect(exit, log()).toMatchObject({ code: 0 });
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  );
});
