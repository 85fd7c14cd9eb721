/**
 * `lastday enqueue FILE`: HR events from a JSON array or NDJSON (`-` for stdin),
 * through the same intake as the API, straight to Redis. A progress bar on
 * stderr and a summary of accepted, duplicate, rejected and unparsable; every
 * good record is sent even when others are bad. Exits 1 when any record was
 * rejected or did not parse, so scripts notice.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Issue } from '../../domain/errors.ts';
import { parseEventFile, type Unparsable } from '../eventFile.ts';
import { type CliIo, CliExit, EXIT, print, readAll } from '../io.ts';

interface RejectedRecord {
  index: number;
  line?: number;
  eventId?: string;
  issues: Issue[];
}

export function enqueueCommand(program: Command, io: CliIo): void {
  program
    .command('enqueue')
    .description('send HR events from a JSON array or NDJSON file (- for stdin)')
    .argument('<file>', 'path, or - for stdin')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      let text: string;
      try {
        text = file === '-' ? await readAll(io.stdin) : await readFile(file, 'utf8');
      } catch (err) {
        throw new CliExit(EXIT.failed, `${file}: ${(err as Error).message}`);
      }
      const { events, unparsable } = parseEventFile(text);
      const counts = { accepted: 0, duplicate: 0, rejected: 0 };
      const rejectedEvents: RejectedRecord[] = [];
      if (events.length > 0) {
        const [{ withContext }, { submitHrEvent }, { SingleBar }] = await Promise.all([
          import('../context.ts'),
          import('../../queues/intake.ts'),
          import('cli-progress'),
        ]);
        await withContext(io, async (ctx) => {
          const showBar = Boolean(io.stderr.isTTY) && !opts.json;
          const bar = new SingleBar(
            { stream: io.stderr, format: 'enqueue [{bar}] {value}/{total} events', hideCursor: true },
            undefined,
          );
          if (showBar) bar.start(events.length, 0);
          for (const { index, line, value } of events) {
            const result = await submitHrEvent(
              { events: ctx.events, queue: ctx.queues.hrEvents, metrics: ctx.metrics, now: ctx.now },
              value,
              'cli',
            );
            counts[result.status]++;
            if (result.status === 'rejected') {
              rejectedEvents.push({
                index,
                ...(line !== undefined ? { line } : {}),
                ...(result.eventId ? { eventId: result.eventId } : {}),
                issues: result.issues,
              });
            }
            if (showBar) bar.increment();
          }
          if (showBar) bar.stop();
        });
      }
      const summary = {
        total: events.length + unparsable.length,
        ...counts,
        unparsable: unparsable.length,
        rejectedEvents,
        unparsableLines: unparsable,
      };
      print(io, opts.json, summary, () => humanSummary(summary, unparsable, rejectedEvents));
      if (summary.rejected > 0 || summary.unparsable > 0) io.exitCode = EXIT.failed;
    });
}

function humanSummary(
  s: { total: number; accepted: number; duplicate: number; rejected: number; unparsable: number },
  unparsable: Unparsable[],
  rejected: RejectedRecord[],
): string {
  const lines = [
    `${s.total} events: ${s.accepted} accepted, ${s.duplicate} duplicate, ${s.rejected} rejected, ${s.unparsable} unparsable`,
  ];
  // Bad records in file order, so they can be fixed top to bottom.
  const bad = [
    ...unparsable.map((u) => ({
      at: u.line ?? 0,
      text: u.line !== undefined ? `line ${u.line}: not JSON: ${u.error}` : `file: ${u.error}`,
    })),
    ...rejected.map((r) => ({
      at: r.line ?? r.index,
      text:
        `${r.line !== undefined ? `line ${r.line}` : `#${r.index}`}${r.eventId ? ` (${r.eventId})` : ''}: rejected: ` +
        r.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '),
    })),
  ].sort((a, b) => a.at - b.at);
  for (const b of bad) lines.push(`  ${b.text}`);
  return lines.join('\n');
}
