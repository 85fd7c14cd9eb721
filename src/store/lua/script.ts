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

/** One EVALSHA of a batch (see `sendInOrder`). */
export interface ScriptCall {
  script: Script;
  keys: readonly string[];
  args: readonly (string | number)[];
}

/**
 * Sends `calls` in order on one connection, EVALSHA only (as `Script.send`),
 * and settles each on its own. On a single Redis a batch goes as one pipeline:
 * one write for the lot instead of one per script (Redis reads them in one go
 * too), the same order and the same replies. On a cluster each is sent on its
 * own, as a pipeline there must stay within one slot.
 */
export async function sendInOrder(
  redis: RedisClient,
  calls: readonly ScriptCall[],
): Promise<PromiseSettledResult<unknown>[]> {
  if (calls.length < 2 || isCluster(redis)) {
    return Promise.allSettled(calls.map((c) => c.script.send(redis, c.keys, c.args)));
  }
  const pipeline = redis.pipeline();
  for (const c of calls) pipeline.evalsha(c.script.sha, c.keys.length, ...c.keys, ...c.args);
  try {
    const replies = (await pipeline.exec()) ?? [];
    return calls.map((_, i): PromiseSettledResult<unknown> => {
      const [err, value] = replies[i] ?? [new Error('no reply in the pipeline'), undefined];
      return err ? { status: 'rejected', reason: err } : { status: 'fulfilled', value };
    });
  } catch (err) {
    return calls.map(() => ({ status: 'rejected', reason: err }));
  }
}

export function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
