/**
 * `lastday enqueue FILE`: HR events from a JSON array or NDJSON (`-` for stdin),
 * with a progress bar on stderr and a summary of accepted, duplicate, rejected.
 * Exits 1 when any event was rejected, so scripts notice.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type CliIo, CliExit, EXIT, print, readAll } from '../io.ts';

export function enqueueCommand(program: Command, io: CliIo): void {
  program
    .command('enqueue')
    .description('send HR events from a JSON array or NDJSON file (- for stdin)')
    .argument('<file>', 'path, or - for stdin')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      let events: unknown[];
      try {
        events = parseEvents(file === '-' ? await readAll(io.stdin) : await readFile(file, 'utf8'));
      } catch (err) {
        throw new CliExit(EXIT.failed, `${file}: ${(err as Error).message}`);
      }
      const [{ withContext }, { submitHrEvent }, { SingleBar }] = await Promise.all([
        import('../context.ts'),
        import('../../queues/intake.ts'),
        import('cli-progress'),
      ]);
      const summary = await withContext(io, async (ctx) => {
        const counts = { accepted: 0, duplicate: 0, rejected: 0 };
        const rejected: { index: number; eventId?: string; issues: unknown }[] = [];
        const bar = new SingleBar(
          { stream: io.stderr, format: 'enqueue [{bar}] {value}/{total} events', hideCursor: true },
          undefined,
        );
        const showBar = Boolean(io.stderr.isTTY) && !opts.json;
        if (showBar) bar.start(events.length, 0);
        for (const [index, event] of events.entries()) {
          const result = await submitHrEvent(
            { events: ctx.events, queue: ctx.queues.hrEvents, metrics: ctx.metrics, now: ctx.now },
            event,
            'cli',
          );
          counts[result.status]++;
          if (result.status === 'rejected') {
            rejected.push({
              index,
              ...(result.eventId ? { eventId: result.eventId } : {}),
              issues: result.issues,
            });
          }
          if (showBar) bar.increment();
        }
        if (showBar) bar.stop();
        return { total: events.length, ...counts, rejectedEvents: rejected };
      });
      print(io, opts.json, summary, () => {
        const lines = [
          `${summary.total} events: ${summary.accepted} accepted, ${summary.duplicate} duplicate, ${summary.rejected} rejected`,
        ];
        for (const r of summary.rejectedEvents) {
          lines.push(
            `  rejected #${r.index}${r.eventId ? ` (${r.eventId})` : ''}: ${JSON.stringify(r.issues)}`,
          );
        }
        return lines.join('\n');
      });
      if (summary.rejected > 0) io.exitCode = EXIT.failed;
    });
}

/** A JSON array, a single JSON object, or one JSON value per line. */
export function parseEvents(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed)) throw new Error('expected a JSON array');
    return parsed;
  }
  try {
    return [JSON.parse(trimmed)];
  } catch {
    return trimmed
      .split('\n')
      .map((line, i) => [line.trim(), i + 1] as const)
      .filter(([line]) => line !== '')
      .map(([line, n]) => {
        try {
          return JSON.parse(line);
        } catch {
          throw new Error(`line ${n} is not valid JSON`);
        }
      });
  }
}
