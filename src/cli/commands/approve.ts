/**
 * `lastday approve ID --as PERSON`: the same rules as the API (no
 * self-approval, no approver whose own offboarding reached `reduce`).
 */
import type { Command } from 'commander';
import { output } from '../context.ts';
import { cliActorName, withGuard } from '../guard.ts';

export function approveCommand(program: Command): void {
  program
    .command('approve')
    .description('approve a held action as PERSON (the second person of the two-person rule)')
    .argument('<actionId>', 'the action to approve')
    .requiredOption('--as <personId>', 'the approving person (must not be the initiator or offboarding)')
    .option('--json', 'print JSON')
    .action(async (actionId: string, opts: { as: string; json?: boolean }) => {
      const view = await withGuard((guard) =>
        guard.approve(actionId, opts.as, { name: cliActorName(), personId: opts.as }),
      );
      output(Boolean(opts.json), view, () => `${view.actionId}: ${view.state} (${view.reason})`);
    });
}
