/**
 * Retry delays for failing effects: exponential from 1 s, capped at 5 minutes,
 * with ±20 % jitter so a recovering connector is not hit by every retry at once.
 */
export function cappedBackoff(attemptsMade: number, random: () => number = Math.random): number {
  const base = Math.min(1_000 * 2 ** Math.max(0, attemptsMade - 1), 300_000);
  return Math.round(base * (0.8 + random() * 0.4));
}
