/**
 * `lastday start` (what `npm start` runs): API, workers and schedulers, on
 * REDIS_URL or an embedded Redis. First SIGTERM/SIGINT drains gracefully
 * within `workers.shutdownTimeoutMs` (exit 0; forced past it: exit 1); a second
 * one exits at once. Its action returns only once lastday has stopped.
 */
import type { Command } from 'commander';
import { CliExit, type CliIo, EXIT, usageError } from '../io.ts';

/** For `--help` without loading the runtime; checked against ROLE_NAMES by a test. */
export const START_ROLES_HELP = 'api,worker,scheduler';

export function startCommand(program: Command, io: CliIo): void {
  program
    .command('start')
    .description('run the API, workers and schedulers')
    .option('--roles <list>', `comma-separated subset of ${START_ROLES_HELP}`, START_ROLES_HELP)
    .action(async (opts: { roles: string }) => {
      const [
        { startEmbeddedRedis, MissingRedisBinaryError },
        { createLogger },
        runtimeModule,
        { settingsOf },
        { clusterUrl },
      ] = await Promise.all([
        import('../../app/embeddedRedis.ts'),
        import('../../telemetry/logger.ts'),
        import('../../app/runtime.ts'),
        import('../context.ts'),
        import('../../queues/connection.ts'),
      ]);
      const { ROLE_NAMES, startRuntime } = runtimeModule;
      const roles = opts.roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      const unknown = roles.filter((r) => !(ROLE_NAMES as readonly string[]).includes(r));
      if (unknown.length > 0 || roles.length === 0) {
        throw usageError(`--roles: expected a subset of ${ROLE_NAMES.join(',')}, got ${opts.roles}`);
      }
      const settings = settingsOf(io);
      // pino's own stdout destination, as a long-running server wants (not io.stdout).
      const log = createLogger(settings.env.LOG_LEVEL);
      let embedded: Awaited<ReturnType<typeof startEmbeddedRedis>> | undefined;
      const clusterNodes = settings.env.REDIS_CLUSTER_NODES;
      let redisUrl = settings.env.REDIS_URL ?? (clusterNodes ? clusterUrl(clusterNodes) : undefined);
      if (!redisUrl) {
        try {
          embedded = await startEmbeddedRedis(settings.env.LASTDAY_DATA_DIR);
        } catch (err) {
          throw new CliExit(
            err instanceof MissingRedisBinaryError ? EXIT.failed : EXIT.unreachable,
            (err as Error).message,
            true,
          );
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
      let runtime: Awaited<ReturnType<typeof startRuntime>>;
      try {
        runtime = await startRuntime({
          settings,
          redisUrl,
          log,
          roles: roles as (typeof ROLE_NAMES)[number][],
          env: io.env as NodeJS.ProcessEnv,
        });
      } catch (err) {
        await embedded?.stop();
        // Another partition count than the stored one: one line saying what to run (docs/cluster.md).
        if ((err as Error).name === 'PartitionCountError')
          throw new CliExit(EXIT.failed, (err as Error).message);
        log.fatal({ err: (err as Error).message }, 'start-up failed');
        throw new CliExit(EXIT.failed, '');
      }
      log.info({ url: runtime.url, roles, prefix: settings.env.LASTDAY_PREFIX }, 'lastday running');

      // Runs until a signal: the first drains and stops; a second one exits at once.
      io.exitCode = await new Promise<number>((resolve) => {
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
          resolve(forced ? EXIT.failed : EXIT.ok);
        };
        process.on('SIGTERM', () => void shutdown('SIGTERM'));
        process.on('SIGINT', () => void shutdown('SIGINT'));
      });
    });
}
