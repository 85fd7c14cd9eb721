/** `lastday cancel ID`: cancels an action that has not run, as the person of LASTDAY_TOKEN (POST /v1/actions/:id/cancel). */
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, print } from '../io.ts';
import { refuseAs } from '../actingPerson.ts';

export function cancelCommand(program: Command, io: CliIo): void {
  refuseAs(
    program
      .command('cancel')
      .description("cancel an action that has not been executed, as LASTDAY_TOKEN's person")
      .argument('<actionId>', 'the action to cancel')
      .option('--reason <text>', 'why (recorded in the audit)')
      .option('--json', 'print JSON'),
  ).action(async (actionId: string, opts: { reason?: string; json?: boolean }) => {
    const view = await withApi(io, opts.json, (api) => api.cancel(actionId, opts.reason));
    print(io, opts.json, view, () => `${view.actionId}: ${view.state} (${view.reason})`);
  });
}
