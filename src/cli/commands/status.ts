/** `lastday status PERSON`: a person's plan and where it stands. */
import type { Command } from 'commander';
import { personView } from '../../domain/person.ts';
import { output, withContext } from '../context.ts';
import { table, when } from '../table.ts';

export function statusCommand(program: Command): void {
  program
    .command('status')
    .description("a person's offboarding: status and milestones")
    .argument('<personId>')
    .option('--json', 'print JSON')
    .action(async (personId: string, opts: { json?: boolean }) => {
      const view = await withContext(async (ctx) => {
        const record = await ctx.people.get(personId);
        return record ? personView(record) : undefined;
      });
      if (!view) {
        process.stderr.write(`no HR record for person ${personId}\n`);
        process.exitCode = 4;
        if (opts.json)
          output(
            true,
            { error: { code: 'not_found', message: `no HR record for person ${personId}` } },
            () => '',
          );
        return;
      }
      output(Boolean(opts.json), view, () =>
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
