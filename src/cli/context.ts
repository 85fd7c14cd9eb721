/** Shared plumbing of CLI commands: settings, a quiet logger, a context, exit codes. */
import { type Context, createContext } from '../app/context.ts';
import { createLogger } from '../app/logger.ts';
import { ConfigError, loadSettings, type Settings } from '../config/load.ts';
import { cliRedisUrl } from './redis.ts';

export function settingsOrExit(): Settings {
  try {
    return loadSettings();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.lines) process.stderr.write(`${line}\n`);
      process.exit(1);
    }
    throw err;
  }
}

export async function withContext<T>(fn: (ctx: Context) => Promise<T>): Promise<T> {
  const settings = settingsOrExit();
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr);
  // CLI commands read and enqueue; they never call connectors, so they need no connector secrets.
  const ctx = await createContext({ settings, redisUrl: cliRedisUrl(settings), log, connectors: false });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** Prints JSON for scripts (`--json`), or the human rendering. */
export function output(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
