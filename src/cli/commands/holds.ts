/** `lastday holds`: held destructive actions, oldest hold first, with why and until when. */
import type { Command } from 'commander';
import { output } from '../context.ts';
import { withGuard } from '../guard.ts';

export function holdsCommand(program: Command): void {
  program
    .command('holds')
    .description('list held destructive actions (oldest first)')
    .option('--limit <n>', 'how many', '100')
    .option('--json', 'print JSON')
    .action(async (opts: { limit: string; json?: boolean }) => {
      const result = await withGuard((guard) => guard.holds({ limit: Number(opts.limit) || 100 }));
      output(Boolean(opts.json), result, () =>
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
