/**
 * Graceful shutdown of the real process: `lastday start` gets SIGTERM while an
 * ops job is active (a roster sync waiting on a slow HR server); the job
 * finishes and the process exits 0. A second signal forces the exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN } from '../helpers/cli.ts';
import { eventually, outsideQueue, testPrefix } from '../helpers/lastday.ts';

const dir = mkdtempSync(join(tmpdir(), 'lastday-shutdown-'));
let hr: Server;
let hrUrl = '';
let requests = 0;
let delayMs = 3_000;
let respondedAt = 0;
const children: ChildProcess[] = [];
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  hr = createServer((_req, res) => {
    requests++;
    timers.push(
      setTimeout(() => {
        respondedAt = Date.now();
        res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
      }, delayMs),
    );
  });
  await new Promise<void>((r) => hr.listen(0, '127.0.0.1', r));
  hrUrl = `http://127.0.0.1:${(hr.address() as AddressInfo).port}/roster.json`;
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const t of timers) clearTimeout(t);
  hr.closeAllConnections();
  await new Promise((r) => hr.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function startLastday(prefix: string) {
  const config = join(dir, `${prefix}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      crons: {
        reconcile: { enabled: false },
        overdue: { enabled: false },
        holdExpiry: { enabled: false },
        rosterSync: { enabled: false, source: hrUrl, timeoutMs: 60_000 },
      },
    }),
  );
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: inject('redisUrl'),
      LASTDAY_PREFIX: prefix,
      LASTDAY_CONFIG: config,
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await eventually(async () => out.includes('lastday running'), 60_000);
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, exited, log: () => out };
}

async function activeRosterSync(prefix: string) {
  const ops = outsideQueue('ops', prefix);
  const before = requests;
  const job = await ops.queue.add('roster-sync', {});
  await eventually(async () => requests > before, 10_000); // the job is active, waiting on HR
  return { job, queue: ops.queue, close: ops.close };
}

describe('lastday start and signals', () => {
  it('SIGTERM lets the active job finish and exits 0', { timeout: 120_000 }, async () => {
    delayMs = 3_000;
    const prefix = testPrefix();
    const lastday = await startLastday(prefix);
    const ops = await activeRosterSync(prefix);
    const signalled = Date.now();
    lastday.child.kill('SIGTERM');
    const { code, at } = await lastday.exited;
    expect(code, lastday.log()).toBe(0);
    // The job was still waiting on HR when the signal came, and the process waited for it.
    expect(respondedAt, lastday.log()).toBeGreaterThan(signalled);
    expect(at).toBeGreaterThanOrEqual(respondedAt);
    expect(await ops.queue.getJobState(ops.job.id!)).toBe('completed');
    await ops.close();
  });

  it('a second signal forces the exit', { timeout: 120_000 }, async () => {
    delayMs = 60_000;
    const prefix = testPrefix();
    const lastday = await startLastday(prefix);
    const ops = await activeRosterSync(prefix);
    lastday.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const signalled = Date.now();
    lastday.child.kill('SIGTERM');
    const { code, at } = await lastday.exited;
    expect(code).toBe(1);
    expect(at - signalled).toBeLessThan(5_000);
    await ops.close();
  });
});
