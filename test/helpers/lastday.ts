/**
 * Builders for tests: settings from a config object, a context or a whole
 * runtime on the test Redis under a fresh prefix, and signed webhook requests.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { inject } from 'vitest';
import { type Context, createContext } from '../../src/app/context.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../src/app/runtime.ts';
import { envSchema } from '../../src/config/env.ts';
import type { Settings } from '../../src/config/load.ts';
import { parseConfig } from '../../src/config/load.ts';
import { sha256Hex } from '../../src/http/auth.ts';

export const HR_SECRET = `whsec_${Buffer.from('lastday-test-hr-secret-0123456789').toString('base64')}`;
export const ACTION_SECRET = `whsec_${Buffer.from('lastday-test-action-secret-012345').toString('base64')}`;

/** Tokens every test config carries: `<role>-token` has that role. */
export const TOKENS = {
  viewer: 'viewer-token',
  approver: 'approver-token',
  admin: 'admin-token',
  system: 'system-token',
} as const;

export function testPrefix(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

export function testSettings(
  config: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Settings {
  const auth = (config.auth as { tokens?: unknown[] } | undefined) ?? {
    tokens: [
      { name: 'viewer', role: 'viewer', sha256: sha256Hex(TOKENS.viewer) },
      { name: 'approver', role: 'approver', personId: 'approver-1', sha256: sha256Hex(TOKENS.approver) },
      { name: 'admin', role: 'admin', personId: 'admin-1', sha256: sha256Hex(TOKENS.admin) },
      { name: 'system', role: 'system', sha256: sha256Hex(TOKENS.system) },
    ],
  };
  return {
    env: envSchema.parse({
      LASTDAY_PREFIX: testPrefix(),
      LASTDAY_HR_WEBHOOK_SECRET: HR_SECRET,
      LASTDAY_ACTION_SECRET: ACTION_SECRET,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    }),
    config: parseConfig({ ...config, auth }),
  };
}

/** Log lines captured from a test lastday, for asserting on what it logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  }
}

export function testLogger(level = process.env.TEST_LOG_LEVEL ?? 'silent', capture?: LogCapture) {
  return createLogger(level, capture);
}

export async function testContext(settings = testSettings(), now?: () => Date): Promise<Context> {
  return createContext({
    settings,
    redisUrl: inject('redisUrl'),
    log: testLogger(settings.env.LOG_LEVEL),
    ...(now ? { now } : {}),
  });
}

export async function testRuntime(
  settings = testSettings(),
  options: Partial<RuntimeOptions> = {},
): Promise<Runtime> {
  return startRuntime({
    settings,
    redisUrl: inject('redisUrl'),
    log: testLogger(settings.env.LOG_LEVEL),
    listen: { host: '127.0.0.1', port: 0 },
    ...options,
  });
}

/**
 * A plain BullMQ queue `name` under `prefix` on a Redis client of its own, as
 * a system outside lastday opens it (an HR system on `hr-events`, contract
 * section 2). `close` closes both: a queue never closes a client it is given.
 */
export function outsideQueue(
  name: string,
  prefix: string,
): { redis: Redis; queue: Queue; close(): Promise<void> } {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: redis, prefix });
  return {
    redis,
    queue,
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** Standard Webhooks headers for `body`, signed with `secret` at `at`. */
export function signedHeaders(body: string, options: { secret?: string; id?: string; at?: Date } = {}) {
  const id = options.id ?? `msg_${randomUUID()}`;
  const at = options.at ?? new Date();
  const signature = new Webhook(options.secret ?? HR_SECRET).sign(id, at, body);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Polls `check` until it returns a truthy value (bounded); for effects done by real workers. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
