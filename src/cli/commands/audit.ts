/** `lastday audit [--person P] [--action A] [--verify]`: the hash-chained audit trail. */
import type { Command } from 'commander';
import { output, withContext } from '../context.ts';
import { table, when } from '../table.ts';

export function auditCommand(program: Command): void {
  program
    .command('audit')
    .description('audit entries (optionally of one person or action), or --verify the chain')
    .option('--person <personId>', 'only entries about this person')
    .option('--action <actionId>', 'only entries about this action')
    .option('--after <seq>', 'entries after this sequence number', '0')
    .option('--limit <n>', 'at most this many entries', '500')
    .option('--verify', 'recompute every hash of the chain; exit 1 when broken')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        person?: string;
        action?: string;
        after: string;
        limit: string;
        verify?: boolean;
        json?: boolean;
      }) => {
        if (opts.verify) {
          const result = await withContext((ctx) => ctx.audit.verify());
          output(Boolean(opts.json), result, () =>
            result.ok
              ? `audit chain verifies: ${result.entries} entries`
              : `audit chain BROKEN at seq ${result.brokenAt}: ${result.reason} (${result.entries} entries verified before it)`,
          );
          process.exitCode = result.ok ? 0 : 1;
          return;
        }
        const entries = await withContext((ctx) =>
          ctx.audit.list({
            ...(opts.person !== undefined ? { personId: opts.person } : {}),
            ...(opts.action !== undefined ? { actionId: opts.action } : {}),
            afterSeq: Number(opts.after) || 0,
            limit: Number(opts.limit) || 500,
          }),
        );
        output(Boolean(opts.json), { entries, count: entries.length }, () =>
          entries.length === 0
            ? 'no audit entries'
            : table(
                ['seq', 'at', 'type', 'actor', 'person', 'details'],
                entries.map((e) => [e.seq, when(e.at), e.type, e.actor, e.personId, brief(e.details)]),
              ),
        );
      },
    );
}

function brief(details: Record<string, unknown>): string {
  const text = JSON.stringify(details);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
