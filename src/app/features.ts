/**
 * The feature modules a default lastday runs with, beyond the core timeline.
 * Each contributes routes, milestone hooks or background work through the
 * Extension interface (runtime.ts), so the core wiring stays small.
 */
import { guardExtension } from '../guard/extension.ts';
import type { Extension } from './runtime.ts';

export const builtinExtensions: readonly Extension[] = [guardExtension()];
