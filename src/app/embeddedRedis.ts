/**
 * The embedded Redis for `npm start` without REDIS_URL: a `redis-server` child
 * with AOF persistence under the data dir (default `.lastday/`), on a free
 * loopback port, stopped with lastday. Its URL is written to
 * `<dataDir>/redis.json` so the CLI in the same checkout finds it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export class MissingRedisBinaryError extends Error {
  override readonly name = 'MissingRedisBinaryError';
  constructor() {
    super(
      'REDIS_URL is not set and no redis-server binary is on PATH to start an embedded one.\n' +
        'Either install Redis 7 (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)\n' +
        'or point lastday at a running Redis: REDIS_URL=redis://127.0.0.1:6379/0 npm start',
    );
  }
}

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Where a running embedded Redis advertises itself. */
export function embeddedRedisInfoPath(dataDir: string): string {
  return resolve(dataDir, 'redis.json');
}

export function readEmbeddedRedisUrl(dataDir: string): string | undefined {
  try {
    const info = JSON.parse(readFileSync(embeddedRedisInfoPath(dataDir), 'utf8')) as {
      url?: string;
      pid?: number;
    };
    if (info.pid && isAlive(info.pid)) return info.url;
  } catch {
    // No embedded Redis running here.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startEmbeddedRedis(
  dataDir: string,
  options: { persistent?: boolean } = {},
): Promise<EmbeddedRedis> {
  if (!hasRedisServer()) throw new MissingRedisBinaryError();
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  // A previous run that was killed hard may have left its server running: reuse it.
  const existing = readEmbeddedRedisUrl(dir);
  if (existing) return { url: existing, stop: async () => undefined };

  const port = await freePort();
  const persistent = options.persistent ?? true;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    persistent ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--protected-mode',
    'yes',
    '--logfile',
    persistent ? resolve(dir, 'redis.log') : '',
  ];
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const url = `redis://127.0.0.1:${port}/0`;
  await waitForPort(port, child, () => stderr);
  writeFileSync(embeddedRedisInfoPath(dir), JSON.stringify({ url, pid: child.pid }));
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        rmSync(embeddedRedisInfoPath(dir), { force: true });
        if (child.exitCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        // SIGTERM makes redis-server flush the AOF and exit cleanly.
        child.kill('SIGTERM');
      }),
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const { Socket } = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`redis-server exited (${child.exitCode}): ${stderr().trim()}`);
    const ok = await new Promise<boolean>((done) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        done(true);
      });
      s.once('error', () => done(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start within 10 s');
}
