/**
 * How CLI commands find Redis: REDIS_URL, else REDIS_CLUSTER_NODES, else the
 * embedded Redis of `npm start` in this directory.
 */

import { readEmbeddedRedisUrl } from '../app/embeddedRedis.ts';
import type { Settings } from '../config/load.ts';
import { clusterUrl } from '../queues/connection.ts';
import { CliExit, EXIT } from './io.ts';

export class NoRedisError extends CliExit {
  override readonly name = 'NoRedisError';
  constructor(message: string) {
    super(EXIT.unreachable, message);
  }
}

export function cliRedisUrl(settings: Settings): string {
  const url =
    settings.env.REDIS_URL ??
    (settings.env.REDIS_CLUSTER_NODES && clusterUrl(settings.env.REDIS_CLUSTER_NODES)) ??
    readEmbeddedRedisUrl(settings.env.LASTDAY_DATA_DIR);
  if (!url) {
    throw new NoRedisError(
      'no Redis to talk to: set REDIS_URL or REDIS_CLUSTER_NODES, or run `npm start` in this directory first (it starts an embedded Redis)',
    );
  }
  return url;
}
