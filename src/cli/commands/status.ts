/** `lastday status PERSON`: a person's plan and where it stands (GET /v1/people/:personId). */
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, print } from '../io.ts';

export function statusCommand(program: Command, io: CliIo): void {
  program
    .command('status')
    .description("a person's offboarding: status and milestones")
    .argument('<personId>')
    .option('--json', 'print JSON')
    .action(async (personId: string, opts: { json?: boolean }) => {
      const view = await withApi(io, opts.json, (api) => api.person(personId));
      const { table, when } = await import('../table.ts');
      print(io, opts.json, view, () =>
        [
          `${view.personId}: ${view.status}${view.reinstatement_required ? ' (reinstatement required)' : ''}`,
          `${view.employment}, ${view.timezone}; last day ${view.lastDay ?? '—'} ${view.endTime ?? ''}; ends ${when(view.endsAt)}`,
          table(
            ['milestone', 'due', 'state', 'done', 'error'],
            view.milestones.map((m) => [m.name, when(m.dueAt), m.state, when(m.doneAt), m.lastError]),
          ),
        ].join('\n'),
      );
    });
}
