/**
 * The registry of bench cases, in the order; run.ts runs them in this
 * order, so the shared population is built by on-time and reused by memory and
 * reconcile.
 */
import type { BenchCase } from '../lib/types.ts';
import { freezeCase } from './freeze.ts';
import { gateCase } from './gate.ts';
import { ingestCase } from './ingest.ts';
import { memoryCase } from './memory.ts';
import { onTimeCase } from './onTime.ts';
import { reconcileCase } from './reconcile.ts';
import { terminationCase } from './termination.ts';

export const CASES: readonly BenchCase[] = [
  ingestCase,
  onTimeCase,
  terminationCase,
  gateCase,
  freezeCase,
  memoryCase,
  reconcileCase,
];
