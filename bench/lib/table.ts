/** The printed results table. */
import Table from 'cli-table3';
import { round } from './stats.ts';
import type { BenchCase, CaseResult } from './types.ts';

export interface Outcome {
  bench: BenchCase;
  result?: CaseResult;
  error?: string;
}

function fmt(n: number | undefined, unit = ''): string {
  if (n === undefined || Number.isNaN(n)) return '—';
  return `${round(n).toLocaleString('en-US')}${unit ? ` ${unit}` : ''}`;
}

export function renderTable(outcomes: readonly Outcome[]): string {
  const table = new Table({
    head: ['#', 'case', 'measure', 'lastday', 'plain BullMQ', 'ratio', 'goal', 'holds'],
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [3, 20, 26, 14, 14, 7, 26, 30],
  });
  for (const { bench, result, error } of outcomes) {
    if (error || !result) {
      table.push([
        bench.number,
        bench.title,
        '—',
        '—',
        '—',
        '—',
        bench.goal,
        `error: ${error ?? 'no result'}`,
      ]);
      continue;
    }
    result.figures.forEach((f, i) => {
      const last = i === result.figures.length - 1;
      table.push([
        i === 0 ? bench.number : '',
        i === 0 ? bench.title : '',
        `${f.label} (${f.unit})`,
        fmt(f.lastday),
        fmt(f.baseline),
        last && result.ratio !== undefined ? `${round(result.ratio)}×` : '',
        i === 0 ? bench.goal : '',
        last ? `${result.holds === null ? 'n/a' : result.holds ? 'yes' : 'NO'}: ${result.verdict}` : '',
      ]);
    });
  }
  return table.toString();
}
