/** `lastday holds`: held destructive actions, oldest hold first, with why and until when (GET /v1/holds). */
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, print } from '../io.ts';

export function holdsCommand(program: Command, io: CliIo): void {
  program
    .command('holds')
    .description('list held destructive actions (oldest first)')
    .option('--limit <n>', 'how many', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const result = await withApi(io, opts.json, (api) => api.holds({ limit: Number(opts.limit) || 100 }));
      print(io, opts.json, result, () =>
        result.count === 0
          ? 'no held actions'
          : [
              `${result.total} held${result.total > result.count ? ` (showing ${result.count})` : ''}`,
              ...result.holds.map(
                (h) =>
                  `${h.actionId}  ${h.kind} ${h.target}  by ${h.initiatorId}  held ${h.heldAt ?? '?'}` +
                  `${h.expiresAt ? `  expires ${h.expiresAt}` : ''}\n    ${h.reason}`,
              ),
            ].join('\n'),
      );
    });
}
