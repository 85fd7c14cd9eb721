/**
 * `lastday enqueue FILE`: HR events from a JSON array or NDJSON (`-` for stdin),
 * with a progress bar on stderr and a summary of accepted, duplicate, rejected.
 * Exits 1 when any event was rejected, so scripts notice.
 */
import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { submitHrEvent } from '../../queues/intake.ts';
import { output, withContext } from '../context.ts';

export function enqueueCommand(program: Command): void {
  program
    .command('enqueue')
    .description('send HR events from a JSON array or NDJSON file (- for stdin)')
    .argument('<file>', 'path, or - for stdin')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      let events: unknown[];
      try {
        events = parseEvents(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (err) {
        process.stderr.write(`${file}: ${(err as Error).message}\n`);
        process.exit(1);
      }
      const summary = await withContext(async (ctx) => {
        const counts = { accepted: 0, duplicate: 0, rejected: 0 };
        const rejected: { index: number; eventId?: string; issues: unknown }[] = [];
        const bar = new SingleBar(
          { stream: process.stderr, format: 'enqueue [{bar}] {value}/{total} events', hideCursor: true },
          undefined,
        );
        const showBar = process.stderr.isTTY && !opts.json;
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
      output(Boolean(opts.json), summary, () => {
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
      process.exitCode = summary.rejected > 0 ? 1 : 0;
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
