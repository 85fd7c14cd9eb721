/** `lastday upcoming [--days N]`: who leaves in the next N days (and what is due next). */
import type { Command } from 'commander';
import { isOpen } from '../../domain/milestone.ts';
import { personView, statusOf } from '../../domain/person.ts';
import { output, withContext } from '../context.ts';
import { table, when } from '../table.ts';

export function upcomingCommand(program: Command): void {
  program
    .command('upcoming')
    .description('people whose access ends in the next N days')
    .option('--days <n>', 'window in days from now', '7')
    .option('--limit <n>', 'at most this many people', '1000')
    .option('--json', 'print JSON')
    .action(async (opts: { days: string; limit: string; json?: boolean }) => {
      const days = Number(opts.days);
      if (!Number.isFinite(days) || days < 0) {
        process.stderr.write('--days: expected a number ≥ 0\n');
        process.exit(1);
      }
      const result = await withContext(async (ctx) => {
        const from = ctx.now().getTime();
        const to = from + days * 86_400_000;
        const ids = await ctx.people.idsEndingBetween(from, to, Number(opts.limit) || 1000);
        const records = (await ctx.people.getMany(ids)).filter((r) => statusOf(r) !== 'cancelled');
        return {
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          count: records.length,
          people: records.map((r) => {
            const next = r.milestones.find(isOpen);
            return {
              ...personView(r),
              next: next ? { name: next.name, dueAt: next.dueAt, state: next.state } : null,
            };
          }),
        };
      });
      output(Boolean(opts.json), result, () =>
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
