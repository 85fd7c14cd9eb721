/**
 * `lastday audit [--person P] [--action A] [--verify]`: the hash-chained audit trail (GET /v1/audit,
 * /v1/audit/verify); `audit export` and `audit verify-export` in ./auditExport.ts.
 */
import type { Command } from 'commander';
import { withApi } from '../api.ts';
import { type CliIo, EXIT, print } from '../io.ts';
import { auditExportCommands } from './auditExport.ts';

export function auditCommand(program: Command, io: CliIo): void {
  const audit = program
    .command('audit')
    .description('audit entries (optionally of one person or action), or --verify the chain')
    .option('--person <personId>', 'only entries about this person')
    .option('--action <actionId>', 'only entries about this action')
    .option(
      '--after <cursor>',
      'entries after this sequence number (with partitions and no filter: after this lastday-next-after cursor)',
      '0',
    )
    .option('--limit <n>', 'at most this many entries', '500')
    .option('--verify', 'have the server recompute every hash of the chain; exit 1 when broken')
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
          const result = await withApi(io, opts.json, (api) => api.verifyAudit());
          print(io, opts.json, result, () =>
            result.ok
              ? `audit chain verifies: ${result.entries} entries`
              : `audit chain BROKEN at seq ${result.brokenAt ?? '?'}: ${result.reason ?? 'no reason given'} (${result.entries} entries verified before it)`,
          );
          if (!result.ok) io.exitCode = EXIT.failed;
          return;
        }
        const { body: result, next } = await withApi(io, opts.json, (api) =>
          api.audit({
            ...(opts.person !== undefined ? { personId: opts.person } : {}),
            ...(opts.action !== undefined ? { actionId: opts.action } : {}),
            after: opts.after,
            limit: Number(opts.limit) || 500,
          }),
        );
        const { table, when } = await import('../table.ts');
        print(io, opts.json, result, () =>
          result.entries.length === 0
            ? 'no audit entries'
            : table(
                ['seq', 'at', 'type', 'actor', 'person', 'details'],
                result.entries.map((e) => [e.seq, when(e.at), e.type, e.actor, e.personId, brief(e.details)]),
              ),
        );
        // The cursor is a response header, not part of the contract's {entries, count}
        // body, so with --json it goes to stderr and stdout stays the API's JSON.
        if (next !== undefined && result.entries.length > 0 && next !== opts.after) {
          const hint = `next page: lastday audit --after ${next}${opts.limit !== '500' ? ` --limit ${opts.limit}` : ''}${opts.json ? ' --json' : ''}\n`;
          (opts.json ? io.stderr : io.stdout).write(hint);
        }
      },
    );
  auditExportCommands(audit, io);
}

function brief(details: Record<string, unknown>): string {
  const text = JSON.stringify(details);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
