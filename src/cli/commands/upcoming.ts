/** `lastday upcoming [--days N]`: who leaves in the next N days, and what is due next (GET /v1/offboardings). */
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, print, usageError } from '../io.ts';

export function upcomingCommand(program: Command, io: CliIo): void {
  program
    .command('upcoming')
    .description('people whose access ends in the next N days')
    .option('--days <n>', 'window in days from now', '7')
    .option('--limit <n>', 'at most this many people', '1000')
    .option('--json', 'print JSON')
    .action(async (opts: { days: string; limit: string; json?: boolean }) => {
      const days = Number(opts.days);
      if (!Number.isFinite(days) || days < 0) throw usageError('--days: expected a number ≥ 0');
      const from = Date.now();
      const page = await withApi(io, opts.json, (api) =>
        api.offboardings({
          from: new Date(from).toISOString(),
          to: new Date(from + days * 86_400_000).toISOString(),
          limit: Number(opts.limit) || 1000,
        }),
      );
      // A called-off departure keeps its endsAt but is nobody's upcoming offboarding.
      const people = page.offboardings
        .filter((p) => p.status !== 'cancelled')
        .map((p) => {
          const next = p.milestones.find((m) => m.state === 'scheduled' || m.state === 'failed');
          return { ...p, next: next ? { name: next.name, dueAt: next.dueAt, state: next.state } : null };
        });
      const result = { from: page.from, to: page.to, count: people.length, people };
      const { table, when } = await import('../table.ts');
      print(io, opts.json, result, () =>
        result.count === 0
          ? `nobody leaves between ${when(result.from)} and ${when(result.to)}`
          : table(
              ['person', 'status', 'employment', 'last day', 'ends (UTC)', 'next', 'next due'],
              result.people.map((p) => [
                p.personId,
                p.status,
                p.employment,
                `${p.lastDay} ${p.endTime ?? ''} ${p.timezone}`,
                when(p.endsAt),
                p.next?.name,
                when(p.next?.dueAt),
              ]),
            ),
      );
    });
}
