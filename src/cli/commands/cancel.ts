/** `lastday cancel ID`: cancels an action that has not run; the same rules as the API. */
import type { Command } from 'commander';
import { output } from '../context.ts';
import { cliActorName, withGuard } from '../guard.ts';

export function cancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('cancel an action that has not been executed')
    .argument('<actionId>', 'the action to cancel')
    .option('--as <personId>', 'the person cancelling (recorded in the audit)')
    .option('--reason <text>', 'why (recorded in the audit)')
    .option('--json', 'print JSON')
    .action(async (actionId: string, opts: { as?: string; reason?: string; json?: boolean }) => {
      const view = await withGuard((guard) =>
        guard.cancel(actionId, { name: cliActorName(), personId: opts.as }, opts.reason),
      );
      output(Boolean(opts.json), view, () => `${view.actionId}: ${view.state} (${view.reason})`);
    });
}
