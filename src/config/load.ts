/**
 * Loads and validates the environment and the config file. Every problem is
 * reported at once, one line each, naming the field; the caller exits 1.
 */
import { readFileSync } from 'node:fs';
import { formatIssues } from '../domain/errors.ts';
import { toIssues } from '../domain/zodIssues.ts';
import { clusterPrefix } from '../domain/ids.ts';
import { type Env, envSchema } from './env.ts';
import { type Config, configSchema } from './schema.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

export interface Settings {
  env: Env;
  config: Config;
}

export function loadSettings(environment: NodeJS.ProcessEnv = process.env): Settings {
  // Empty variables count as unset: `FOO= npm start` should not be an error.
  const cleaned = Object.fromEntries(
    Object.entries(environment).filter(([, v]) => v !== undefined && v !== ''),
  );
  const envResult = envSchema.safeParse(cleaned);
  const lines: string[] = [];
  if (!envResult.success) lines.push(...formatIssues(toIssues(envResult.error, cleaned)));
  const path = envResult.success ? envResult.data.LASTDAY_CONFIG : cleaned.LASTDAY_CONFIG;
  let raw: unknown = {};
  if (path) {
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      lines.push(`LASTDAY_CONFIG: cannot read ${path}: ${(err as Error).message}`);
    }
  }
  const configResult = configSchema.safeParse(raw);
  if (!configResult.success) lines.push(...formatIssues(toIssues(configResult.error, raw)));
  if (envResult.success && envResult.data.REDIS_URL && envResult.data.REDIS_CLUSTER_NODES) {
    lines.push(
      'REDIS_CLUSTER_NODES: set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster), not both',
    );
  }
  if (lines.length > 0 || !envResult.success || !configResult.success) throw new ConfigError(lines);
  return { env: effectiveEnv(envResult.data), config: configResult.data };
}

/**
 * On a cluster the prefix is hash-tagged, `{<prefix>}`, so every key lastday
 * (and BullMQ) writes starts with `{<prefix>` and hashes to one slot. A prefix
 * already tagged (`{lastday}`) is kept as it is.
 */
export function effectiveEnv(env: Env): Env {
  if (!env.REDIS_CLUSTER_NODES) return env;
  return { ...env, LASTDAY_PREFIX: clusterPrefix(env.LASTDAY_PREFIX) };
}

/** Parses a config object (tests and tools build configs in code). */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(toIssues(result.error, raw)));
  return result.data;
}
