/**
 * Cases whose subject is built in parallel branches (the action gate, ops'
 * reconcile). They are listed, with their goals, so the table shows every case
 * of the issue; they report no figures until the integrator replaces each stub
 * in cases/index.ts with a real case (same BenchCase interface).
 */
import type { BenchCase, CaseResult } from '../lib/types.ts';

function stub(number: number, name: string, title: string, goal: string, missing: string): BenchCase {
  return {
    name,
    number,
    title,
    goal,
    unavailable: missing,
    run(): Promise<CaseResult> {
      return Promise.reject(new Error(`${name}: ${missing}`));
    },
  };
}

/**
 * Case 4, gate: 10,000 checks in-process and over HTTP (`POST /v1/actions/:id/gate`,
 * autocannon at fixed concurrency): p50/p99 and requests/s, beside a Redis GET
 * round trip as the floor.
 */
export const gateStub = stub(
  4,
  'gate',
  'Gate',
  'HTTP p99 ≤ 5 ms',
  'the action gate (Guard) is not in this build',
);

/** Case 5, freeze: one person with 10,000 pending actions; time for `freeze` to hold all. */
export const freezeStub = stub(
  5,
  'freeze',
  'Freeze',
  'hold 10,000 actions ≤ 1 s',
  'actions and the freeze hook (Guard) are not in this build',
);

/** Case 7, reconcile: one full reconcile over 100,000 people. */
export const reconcileStub = stub(
  7,
  'reconcile',
  'Reconcile',
  'full reconcile of 100,000 people ≤ 30 s',
  'reconcile (Ops) is not in this build',
);
