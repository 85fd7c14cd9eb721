/**
 * `lastday partitions show` and `lastday partitions move --to N` (Redis
 * directly; docs/cluster.md "Changing the partition count"). A move runs with
 * lastday's workers stopped: it refuses while a milestones or actions worker
 * is connected.
 */
import type { Command } from 'commander';
import { CliExit, type CliIo, EXIT, print, usageError } from '../io.ts';

export function partitionsCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('partitions')
    .description('the partition layout: show it, move people to a new count');
  cmd
    .command('show')
    .description('the stored partition count, each partition prefix, its slot and master')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const result = await withRedis(io, async ({ redis, prefix }) => {
        const [{ readLayout, slotOwnerOf }, { default: calculateSlot }] = await Promise.all([
          import('../../store/partitions.ts'),
          import('cluster-key-slot'),
        ]);
        const layout = (await readLayout(redis, prefix)) ?? { count: 1, prefixes: [prefix] };
        const owner = slotOwnerOf(redis);
        const partitions = layout.prefixes.map((p, i) => {
          const slot = calculateSlot(`${p}:x`);
          return { partition: i, prefix: p, slot, master: owner?.(slot) ?? null };
        });
        const perMaster: Record<string, number> = {};
        for (const p of partitions) if (p.master) perMaster[p.master] = (perMaster[p.master] ?? 0) + 1;
        return { count: layout.count, partitions, perMaster, retired: layout.retired ?? [] };
      });
      print(io, opts.json, result, () =>
        [
          `${result.count} partition${result.count === 1 ? '' : 's'}`,
          ...result.partitions.map(
            (p) => `  ${p.partition}\t${p.prefix}\tslot ${p.slot}${p.master ? `\t${p.master}` : ''}`,
          ),
          ...Object.entries(result.perMaster).map(([m, n]) => `master ${m}: ${n}`),
        ].join('\n'),
      );
    });
  cmd
    .command('move')
    .description('move people to a new partition count (workers stopped; idempotent, resumable)')
    .requiredOption('--to <n>', 'the new partition count (1–1024)')
    .option('--force', 'move even though workers are connected')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { to: string; force?: boolean; json?: boolean }) => {
      const to = Number(opts.to);
      if (!Number.isInteger(to) || to < 1 || to > 1024)
        throw usageError(`--to: expected 1–1024, got ${opts.to}`);
      const result = await withRedis(io, async ({ redis, prefix, settings }) => {
        const [{ movePartitions }, { readLayout }, { Queue }] = await Promise.all([
          import('../../app/partitionMove.ts'),
          import('../../store/partitions.ts'),
          import('bullmq'),
        ]);
        if (!opts.force) {
          const layout = (await readLayout(redis, prefix)) ?? { count: 1, prefixes: [prefix] };
          let connected = 0;
          for (const p of layout.prefixes) {
            for (const name of ['milestones', 'actions', 'hr-events']) {
              const q = new Queue(name, { connection: redis, prefix: p });
              connected += await q.getWorkersCount().catch(() => 0);
              await q.close();
            }
          }
          if (connected > 0) {
            throw new CliExit(
              EXIT.failed,
              `${connected} lastday worker${connected === 1 ? ' is' : 's are'} connected: stop the workers (and schedulers) first, or pass --force`,
            );
          }
        }
        return movePartitions({
          redis,
          prefix,
          to,
          auditKey: settings.env.LASTDAY_AUDIT_KEY,
        });
      });
      print(io, opts.json, result, () =>
        [
          result.already
            ? `already ${result.to} partitions: nothing to move` +
              (result.directoryUsers > 0
                ? ` (${result.directoryUsers} directory users moved from the global prefix to their partitions)`
                : '')
            : `moved ${result.moved} people from ${result.from} to ${result.to} partitions (${result.stayed} stayed, ${result.jobs} jobs, ${result.auditCopied} audit entries copied, ${result.directoryUsers} directory users, ${result.otherActions} actions of people without an HR record, ${result.overdueMarks} overdue-alert marks)`,
          ...(result.already ? [] : [`start lastday with LASTDAY_PARTITIONS=${result.to}`]),
        ].join('\n'),
      );
    });
}

async function withRedis<T>(
  io: CliIo,
  fn: (c: {
    redis: import('../../store/redisClient.ts').RedisClient;
    prefix: string;
    settings: import('../../config/load.ts').Settings;
  }) => Promise<T>,
): Promise<T> {
  const [{ settingsOf }, { cliRedisUrl }, { createRedis, clusterSeeds, waitForRedis }, { clusterPrefix }] =
    await Promise.all([
      import('../context.ts'),
      import('../redis.ts'),
      import('../../queues/connection.ts'),
      import('../../store/keys.ts'),
    ]);
  const settings = settingsOf(io);
  const url = cliRedisUrl(settings);
  const prefix = clusterSeeds(url) ? clusterPrefix(settings.env.LASTDAY_PREFIX) : settings.env.LASTDAY_PREFIX;
  const redis = createRedis(url, 'worker', 'lastday-partitions');
  redis.on('error', () => undefined);
  try {
    await waitForRedis(redis).catch((err: Error) => {
      throw new CliExit(EXIT.unreachable, err.message);
    });
    return await fn({ redis, prefix, settings });
  } finally {
    redis.disconnect();
  }
}
