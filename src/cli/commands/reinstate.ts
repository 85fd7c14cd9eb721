/**
 * `lastday reinstate PERSON --reason TEXT`: requests the undo of a revoke as
 * the person of LASTDAY_TOKEN (POST /v1/people/:id/reinstatement, role admin).
 * The request is always held: another person approves it with `lastday
 * approve ACTION_ID`, and lastday then re-enables the person everywhere.
 */
import type { Command } from 'commander';
import { refuseAs } from '../actingPerson.ts';
import { withApi } from '../api.ts';
import { type CliIo, print } from '../io.ts';

export function reinstateCommand(program: Command, io: CliIo): void {
  refuseAs(
    program
      .command('reinstate')
      .description(
        "request a revoked person's reinstatement as LASTDAY_TOKEN's person (held until another person approves)",
      )
      .argument('<personId>', 'the revoked person to re-enable')
      .requiredOption('--reason <text>', 'why the revoke is being undone (kept in the audit)')
      .option('--json', 'print JSON'),
  ).action(async (personId: string, opts: { reason: string; json?: boolean }) => {
    const view = await withApi(io, opts.json, (api) => api.reinstate(personId, opts.reason));
    print(io, opts.json, view, () =>
      [
        `${view.actionId}: ${view.state} (${view.reason})${view.created ? '' : ' — the open request, not a new one'}`,
        `  a second person approves it with: lastday approve ${view.actionId}`,
      ].join('\n'),
    );
  });
}
