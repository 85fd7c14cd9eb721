/** `lastday rejected`: HR events that failed validation, newest first, with reasons. */
import type { Command } from 'commander';
import { output, withContext } from '../context.ts';

export function rejectedCommand(program: Command): void {
  program
    .command('rejected')
    .description('list rejected HR events with their reasons (newest first)')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const rejected = await withContext((ctx) => ctx.events.listRejected(Number(opts.limit) || 50));
      output(Boolean(opts.json), { rejected, count: rejected.length }, () =>
        rejected.length === 0
          ? 'no rejected events'
          : rejected
              .map(
                (r) =>
                  `${r.at}  ${r.source.padEnd(5)}  ${r.eventId ?? '(no eventId)'}\n` +
                  r.issues.map((i) => `    ${i.path || '(event)'}: ${i.message}`).join('\n'),
              )
              .join('\n'),
      );
    });
}
