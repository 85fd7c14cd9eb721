/** `lastday evidence PERSON [--format md|json]`: the auditor's page for one leaver (GET /v1/people/:personId/evidence). */
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, usageError } from '../io.ts';

export function evidenceCommand(program: Command, io: CliIo): void {
  program
    .command('evidence')
    .description(
      'offboarding evidence for one person: planned vs done, lag, what was removed, holds, audit chain',
    )
    .argument('<personId>')
    .option('--format <format>', 'md or json', 'md')
    .option('--json', 'same as --format json')
    .action(async (personId: string, opts: { format: string; json?: boolean }) => {
      const format = opts.json ? 'json' : opts.format;
      if (format !== 'md' && format !== 'json') throw usageError('--format: expected md or json');
      if (format === 'md') {
        const page = await withApi(io, false, (api) => api.evidenceMarkdown(personId));
        io.stdout.write(page.endsWith('\n') ? page : `${page}\n`);
        return;
      }
      const report = await withApi(io, true, (api) => api.evidence(personId));
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}
