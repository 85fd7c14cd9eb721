/** `lastday evidence PERSON [--format md|json]`: the auditor's page for one leaver. */
import type { Command } from 'commander';
import { loadEvidence } from '../../app/evidence.ts';
import { opsProviders } from '../../app/features.ts';
import { evidenceMarkdown } from '../../domain/evidenceMarkdown.ts';
import { withContext } from '../context.ts';

export function evidenceCommand(program: Command): void {
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
      if (format !== 'md' && format !== 'json') {
        process.stderr.write('--format: expected md or json\n');
        process.exit(1);
      }
      const report = await withContext((ctx) => loadEvidence(ctx, opsProviders, personId));
      if (!report) {
        process.stderr.write(`no HR record for person ${personId}\n`);
        process.exitCode = 4;
        return;
      }
      process.stdout.write(
        format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : evidenceMarkdown(report),
      );
    });
}
