/**
 * A Lua script run by SHA with a fallback to EVAL on NOSCRIPT (a restarted or
 * failed-over Redis has an empty script cache).
 */
import { createHash } from 'node:crypto';
import { isCluster, type RedisClient } from '../redisClient.ts';

export class Script {
  readonly sha: string;
  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await this.send(redis, keys, args);
    } catch (err) {
      if (isNoScript(err)) return redis.eval(this.source, keys.length, ...keys, ...args);
      throw err;
    }
  }

  /**
   * EVALSHA only, no fallback: callers that send several scripts in order on
   * one connection (the audit appender) must not have one re-sent out of order.
   * Rejects with NOSCRIPT when Redis lacks it (see `load`).
   */
  send(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return redis.evalsha(this.sha, keys.length, ...keys, ...args);
  }

  /** Loads the script; on a cluster on every master (SCRIPT LOAD has no key to route by). */
  async load(redis: RedisClient): Promise<void> {
    if (isCluster(redis)) {
      await Promise.all(redis.nodes('master').map((node) => node.script('LOAD', this.source)));
      return;
    }
    await redis.script('LOAD', this.source);
  }
}

export function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
