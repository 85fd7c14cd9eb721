/** `lastday queues`: jobs per state in each queue, the oldest waiting job and the next delayed one (Redis directly). */
import type { JobType, Queue } from 'bullmq';
import type { Command } from 'commander';
import { type CliIo, print } from '../io.ts';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

export function queuesCommand(program: Command, io: CliIo): void {
  program
    .command('queues')
    .description('queue depths, oldest waiting job, next delayed job')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const [{ withContext }, { table, when }] = await Promise.all([
        import('../context.ts'),
        import('../table.ts'),
      ]);
      const result = await withContext(io, async (ctx) => {
        // With partitions, each partition's milestones and actions queues are listed as `name:<p>`.
        const many = ctx.partitions.count > 1;
        const queues: { label: string; q: Queue }[] = [
          ...(Object.values(ctx.queues) as Queue[])
            .filter((q) => !many || (q !== ctx.queues.milestones && q !== ctx.queues.actions))
            .map((q) => ({ label: q.name, q })),
          ...(many
            ? ctx.partitions.all().flatMap((p) => {
                const shard = ctx.shard(p).queues;
                return [shard.milestones as Queue, shard.actions as Queue].map((q) => ({
                  label: `${q.name}:${p}`,
                  q,
                }));
              })
            : []),
        ];
        return {
          queues: await Promise.all(
            queues.map(async ({ label, q }) => {
              const counts = await q.getJobCounts(...STATES);
              const [oldest] = await q.getJobs(['wait' as JobType], 0, 0, true);
              const [next] = await q.getJobs(['delayed'], 0, 0, true);
              const schedulers = await q.getJobSchedulers(0, -1);
              return {
                name: label,
                counts,
                oldestWaiting: oldest
                  ? { id: oldest.id, name: oldest.name, since: new Date(oldest.timestamp).toISOString() }
                  : null,
                nextDelayed: next
                  ? {
                      id: next.id,
                      name: next.name,
                      at: new Date(next.timestamp + (next.delay ?? 0)).toISOString(),
                    }
                  : null,
                schedulers: schedulers.map((s) => ({
                  id: s.id ?? s.key,
                  pattern: s.pattern,
                  tz: s.tz,
                  next: s.next ? new Date(s.next).toISOString() : null,
                })),
              };
            }),
          ),
        };
      });
      print(io, opts.json, result, () => {
        const lines = [
          table(
            ['queue', ...STATES, 'oldest waiting', 'next delayed'],
            result.queues.map((q) => [
              q.name,
              ...STATES.map((s) => q.counts[s] ?? 0),
              q.oldestWaiting ? `${q.oldestWaiting.name} since ${when(q.oldestWaiting.since)}` : undefined,
              q.nextDelayed ? `${q.nextDelayed.name} at ${when(q.nextDelayed.at)}` : undefined,
            ]),
          ),
        ];
        const crons = result.queues.flatMap((q) => q.schedulers);
        if (crons.length > 0) {
          lines.push(
            table(
              ['cron', 'pattern', 'tz', 'next run'],
              crons.map((c) => [c.id, c.pattern, c.tz, when(c.next)]),
            ),
          );
        }
        return lines.join('\n');
      });
    });
}
