/**
 * Order of the test files: vitest's own (projects in turn, then by the
 * durations it remembers from the last run in this checkout, else by size),
 * except that the files known to take longest start first. A clean clone (CI)
 * has no remembered durations, and a 60-second file that starts last is a
 * minute the other workers sit idle at the end of the run.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The files of 5 s or more, longest first (per-file durations of whole runs on 2 cores, 4 workers). */
export const LONGEST_FIRST = [
  'test/fault/workerKilled.test.ts',
  'test/integration/routeAccess.test.ts',
  'test/model/offboarding.model.test.ts',
  'test/browser/console.test.ts',
  'test/e2e/redisLost.test.ts',
  'test/e2e/replay.test.ts',
  'test/integration/guard.test.ts',
  'test/cluster/failover.test.ts',
  'test/integration/scim.test.ts',
  'test/fault/redisRestart.test.ts',
  'test/integration/notifications.test.ts',
  'test/e2e/shutdown.test.ts',
  'test/fault/lostResponse.test.ts',
  'test/integration/disableFirst.test.ts',
  'test/integration/cronHeal.test.ts',
  'test/integration/policyReplan.test.ts',
  'test/integration/webhookConnector.test.ts',
  'test/cluster/partitions.test.ts',
  'test/integration/replicaWait.test.ts',
  'test/integration/reinstatement.test.ts',
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
