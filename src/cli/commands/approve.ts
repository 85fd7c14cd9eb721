/**
 * `lastday approve ID`: approves a held action as the person of LASTDAY_TOKEN
 * (POST /v1/actions/:id/approve). The server applies the two-person rule: no
 * self-approval, no approver whose own offboarding has begun.
 */
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, print } from '../io.ts';
import { refuseAs } from '../actingPerson.ts';

export function approveCommand(program: Command, io: CliIo): void {
  refuseAs(
    program
      .command('approve')
      .description(
        "approve a held action as LASTDAY_TOKEN's person (the second person of the two-person rule)",
      )
      .argument('<actionId>', 'the action to approve')
      .option('--json', 'print JSON'),
  ).action(async (actionId: string, opts: { json?: boolean }) => {
    const view = await withApi(io, opts.json, (api) => api.approve(actionId));
    print(io, opts.json, view, () => `${view.actionId}: ${view.state} (${view.reason})`);
  });
}
