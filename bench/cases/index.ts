/**
 * The registry of bench cases, in the order. This is the seam: a
 * feature branch that brings the gate, freeze or reconcile replaces its stub
 * here with a real BenchCase; run.ts needs no change.
 */
import type { BenchCase } from '../lib/types.ts';
import { ingestCase } from './ingest.ts';
import { memoryCase } from './memory.ts';
import { onTimeCase } from './onTime.ts';
import { terminationCase } from './termination.ts';
import { freezeStub, gateStub, reconcileStub } from './unavailable.ts';

export const CASES: readonly BenchCase[] = [
  ingestCase,
  onTimeCase,
  terminationCase,
  gateStub,
  freezeStub,
  memoryCase,
  reconcileStub,
];
