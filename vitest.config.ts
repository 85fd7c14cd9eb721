import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/helpers/sequencer.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker per core minus one: one on a 2-core machine,
    // so the files ran one after another. They mostly wait (real Redis, child
    // processes, real-time instants), so more workers than cores share two cores
    // well: 1 → 3 took the suite from 440 s to 205 s on the CI machine; 3 → 4 from
    // 130–139 s to 111 s on the shared 2-core machine (each of the 4 lanes busy
    // 75–89 s; workerKilled, ~57 s mostly waiting, is one lane's first file).
    maxWorkers: 4,
    // The longest files start first, whether or not vitest remembers a last run.
    sequence: { sequencer: LongestFirstSequencer },
    // Leaked handles fail the run instead of hanging it.
    teardownTimeout: 10_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Pure code, no Redis, no runtime: a worker keeps its modules from one file
          // to the next instead of importing them afresh for each of the 29 files
          // (test/unit on a loaded 2-core machine: 70 s -> 40 s).
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'system',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**'],
          // Builds dist/ once (the processes tests spawn run it) and starts the run's Redis.
          globalSetup: ['test/helpers/globalSetup.ts'],
          // A worker imports lastday (bullmq, fastify, the sources…) once, not once per file: that
          // import was 2–3 s of CPU per file, 68 files. CPU (user+sys) of a whole `npm test` from
          // cold caches: vitest alone 315 s before, vitest + typecheck + lint 247 s after. Every
          // file closes what it starts; handles.ts names a file that leaves a socket, server or
          // child process behind.
          isolate: false,
          setupFiles: ['test/helpers/handles.ts'],
        },
      },
    ],
  },
});
