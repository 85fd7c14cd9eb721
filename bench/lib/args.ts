/**
 * A bench script's command line, as `node bin/bench.js bench/X.ts 2000 5
 * --profile out.cpuprofile` passes it: positional arguments in order wherever
 * the options stand, `--name value` for the options a script names as taking
 * a value, and bare `--flag`s.
 */
export interface BenchArgs {
  /** Positional `i` (from 0) as a number; `fallback` when it is not given. */
  number(i: number, fallback: number): number;
  /** Positional `i` as given, or undefined. */
  text(i: number): string | undefined;
  /** The value after option `name` (one of `valued`), or undefined. */
  option(name: string): string | undefined;
  /** Whether `--name` was given. */
  flag(name: string): boolean;
}

export function benchArgs(valued: readonly string[] = [], argv = process.argv.slice(2)): BenchArgs {
  const positional: string[] = [];
  const options = new Map<string, string | undefined>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('--')) positional.push(word);
    else options.set(word, valued.includes(word) ? argv[++i] : undefined);
  }
  return {
    number: (i, fallback) => (positional[i] === undefined ? fallback : Number(positional[i])),
    text: (i) => positional[i],
    option: (name) => options.get(name),
    flag: (name) => options.has(name),
  };
}
