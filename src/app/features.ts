/**
 * The feature modules a default lastday runs with, beyond the core timeline.
 * Each contributes routes, milestone hooks or background work through the
 * Extension interface (runtime.ts), so the core wiring stays small.
 */
import { consolePlugin } from '../console/plugin.ts';
import { guardExtension } from '../guard/extension.ts';
import { guardOpsProviders } from '../guard/opsProviders.ts';
import { createOpsExtension } from './ops.ts';
import type { OpsProviders } from './opsProviders.ts';
import type { Extension } from './runtime.ts';

/**
 * What the action gate lends the ops feature: holds for evidence and metrics,
 * and the `hold-expiry` cron's work. The CLI reads the same object.
 */
export const opsProviders: OpsProviders = guardOpsProviders;

export const builtinExtensions: readonly Extension[] = [
  guardExtension(),
  createOpsExtension(opsProviders),
  // The web console (/console) reads holds through the same providers.
  { routes: [consolePlugin(opsProviders)] },
];
