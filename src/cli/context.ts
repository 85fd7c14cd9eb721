/**
 * Shared plumbing of the CLI verbs that use Redis directly (`enqueue`, `run`,
 * `queues`): settings from the run's environment, a quiet logger, a context.
 * Heavy (BullMQ, ioredis): command modules import it inside their actions.
 */
import { type Context, createContext } from '../app/context.ts';
import { createLogger } from '../telemetry/logger.ts';
import { ConfigError, loadSettings, type Settings } from '../config/load.ts';
import { CliExit, type CliIo, EXIT } from './io.ts';
import { cliRedisUrl } from './redis.ts';

/** The settings of this run; a config or environment error ends it with one line per problem. */
export function settingsOf(io: CliIo): Settings {
  try {
    return loadSettings(io.env as NodeJS.ProcessEnv);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(EXIT.failed, err.lines.join('\n'), true);
    throw err;
  }
}

export async function withContext<T>(io: CliIo, fn: (ctx: Context) => Promise<T>): Promise<T> {
  const settings = settingsOf(io);
  const log = createLogger(io.env.LOG_LEVEL ?? 'warn', io.stderr);
  // CLI commands read and enqueue; they never call connectors, so they need no connector secrets.
  const ctx = await createContext({
    settings,
    redisUrl: cliRedisUrl(settings),
    log,
    connectors: false,
    env: io.env as NodeJS.ProcessEnv,
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
