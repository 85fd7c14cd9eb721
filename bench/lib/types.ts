/** What a bench case is and what it reports. */

export interface CaseEnv {
  /** The bench's own Redis. */
  redisUrl: string;
  /** Small counts for a smoke run. */
  quick: boolean;
  /** Progress lines (stderr), so the table on stdout stays clean. */
  progress(message: string): void;
}

/** One measured figure, with the plain BullMQ figure it is compared against when there is one. */
export interface Figure {
  label: string;
  unit: string;
  lastday: number;
  baseline?: number;
}

export interface CaseResult {
  figures: Figure[];
  /** lastday ÷ baseline for the figure the goal is about (throughput: higher is better; latency: lower). */
  ratio?: number;
  /** Whether the goal holds; null when the case could not be measured. */
  holds: boolean | null;
  /** The comparison behind `holds`, e.g. "p99 312 ms ≤ 500 ms". */
  verdict: string;
  /** Counts and settings the figures came from. */
  params: Record<string, unknown>;
  notes?: string[];
}

export interface BenchCase {
  /** `--case NAME`. */
  name: string;
  /** Number in the list (1–7). */
  number: number;
  title: string;
  goal: string;
  run(env: CaseEnv): Promise<CaseResult>;
}
