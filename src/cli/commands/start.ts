/**
 * `lastday start` (what `npm start` runs): API, workers and schedulers, on
 * REDIS_URL or an embedded Redis. First SIGTERM/SIGINT drains gracefully
 * within `workers.shutdownTimeoutMs` (exit 0; forced past it: exit 1); a second
 * one exits at once.
 */
import type { Command } from 'commander';
import { type EmbeddedRedis, MissingRedisBinaryError, startEmbeddedRedis } from '../../app/embeddedRedis.ts';
import { createLogger } from '../../app/logger.ts';
import { ROLE_NAMES, type RuntimeRole, startRuntime } from '../../app/runtime.ts';
import { settingsOrExit } from '../context.ts';

export function startCommand(program: Command): void {
  program
    .command('start')
    .description('run the API, workers and schedulers')
    .option('--roles <list>', `comma-separated subset of ${ROLE_NAMES.join(',')}`, ROLE_NAMES.join(','))
    .action(async (opts: { roles: string }) => {
      const roles = opts.roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      const unknown = roles.filter((r) => !(ROLE_NAMES as readonly string[]).includes(r));
      if (unknown.length > 0 || roles.length === 0) {
        process.stderr.write(`--roles: expected a subset of ${ROLE_NAMES.join(',')}, got ${opts.roles}\n`);
        process.exit(1);
      }
      const settings = settingsOrExit();
      const log = createLogger(settings.env.LOG_LEVEL);
      let embedded: EmbeddedRedis | undefined;
      let redisUrl = settings.env.REDIS_URL;
      if (!redisUrl) {
        try {
          embedded = await startEmbeddedRedis(settings.env.LASTDAY_DATA_DIR);
        } catch (err) {
          process.stderr.write(`${(err as Error).message}\n`);
          process.exit(err instanceof MissingRedisBinaryError ? 1 : 2);
        }
        redisUrl = embedded.url;
        log.info(
          { redis: redisUrl, dataDir: settings.env.LASTDAY_DATA_DIR },
          'embedded redis started (AOF on)',
        );
      }
      if (settings.config.auth.tokens.length === 0) {
        log.warn(
          'no API tokens configured: /v1 routes answer 401. Create one with `npx lastday token create`.',
        );
      }
      const runtime = await startRuntime({ settings, redisUrl, log, roles: roles as RuntimeRole[] }).catch(
        async (err: Error) => {
          log.fatal({ err: err.message }, 'start-up failed');
          await embedded?.stop();
          process.exit(1);
        },
      );
      log.info({ url: runtime.url, roles, prefix: settings.env.LASTDAY_PREFIX }, 'lastday running');

      let signals = 0;
      const shutdown = async (signal: string) => {
        signals++;
        if (signals > 1) {
          log.warn({ signal }, 'second signal: exiting now');
          process.exit(1);
        }
        log.info({ signal }, 'shutting down: finishing active jobs');
        // Bounded by workers.shutdownTimeoutMs whatever Redis does; past it, forced (exit 1).
        const { forced } = await runtime.stop();
        await embedded?.stop();
        log.info({ forced }, 'stopped');
        process.exit(forced ? 1 : 0);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
    });
}
