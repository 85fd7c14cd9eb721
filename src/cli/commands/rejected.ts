/** `lastday rejected`: HR events that failed validation, newest first, with reasons (GET /v1/hr-events/rejected). */
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, print } from '../io.ts';

export function rejectedCommand(program: Command, io: CliIo): void {
  program
    .command('rejected')
    .description('list rejected HR events with their reasons (newest first)')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const result = await withApi(io, opts.json, (api) => api.rejected({ limit: Number(opts.limit) || 50 }));
      print(io, opts.json, result, () =>
        result.count === 0
          ? 'no rejected events'
          : result.rejected
              .map(
                (r) =>
                  `${r.at}  ${String(r.source).padEnd(5)}  ${r.eventId ?? '(no eventId)'}\n` +
                  (r.issues ?? []).map((i) => `    ${i.path || '(event)'}: ${i.message}`).join('\n'),
              )
              .join('\n'),
      );
    });
}
