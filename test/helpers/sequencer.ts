/**
 * Order of the test files: vitest's own (projects in turn, then by the
 * durations it remembers from the last run in this checkout, else by size),
 * except that the files known to take longest start first. A clean clone (CI)
 * has no remembered durations, and a 60-second file that starts last is a
 * minute the other workers sit idle at the end of the run.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The longest files, longest first (per-file durations of a whole run on 2 cores). */
export const LONGEST_FIRST = [
  'test/fault/workerKilled.test.ts',
  'test/integration/routeAccess.test.ts',
  'test/model/offboarding.model.test.ts',
  'test/e2e/redisLost.test.ts',
  'test/integration/disableFirst.test.ts',
  'test/integration/reinstatement.test.ts',
  'test/integration/guard.test.ts',
  'test/browser/console.test.ts',
  'test/integration/scim.test.ts',
  'test/e2e/replay.test.ts',
  'test/fault/lostResponse.test.ts',
  'test/cluster/failover.test.ts',
  'test/integration/notifications.test.ts',
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const at = LONGEST_FIRST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
      return at < 0 ? LONGEST_FIRST.length : at;
    };
    // Stable within a project: projects keep vitest's order, since they run in turn.
    const project = new Map<string, number>();
    for (const spec of sorted)
      if (!project.has(spec.project.name)) project.set(spec.project.name, project.size);
    return sorted
      .map((spec, i) => ({ spec, i }))
      .sort(
        (a, b) =>
          project.get(a.spec.project.name)! - project.get(b.spec.project.name)! ||
          rank(a.spec) - rank(b.spec) ||
          a.i - b.i,
      )
      .map(({ spec }) => spec);
  }
}
