/** Human tables for the CLI (cli-table3), plain borders so they paste into tickets. */
import Table from 'cli-table3';

export function table(head: string[], rows: unknown[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (c === undefined || c === null ? '—' : String(c))));
  return t.toString();
}

/** `2026-12-04T16:00:00Z` → `2026-12-04 16:00:00Z`, easier to scan in a column. */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '—';
}
