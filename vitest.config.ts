import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ once (the processes tests spawn run it) and starts the run's Redis.
    globalSetup: ['test/helpers/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker per core minus one: one on a 2-core machine,
    // so the files ran one after another. They mostly wait (real Redis, child
    // processes, real-time instants), so three share two cores well: the suite
    // went from 440 s to 205 s on the CI machine with nothing else running.
    maxWorkers: 3,
    // A worker keeps its module graph from one file to the next instead of
    // importing BullMQ, fastify, ioredis and the sources afresh for each of the
    // 88 files: that import was about as much time as the tests themselves
    // (test/unit alone: 70 s → 40 s on a loaded 2-core machine). Every file
    // already runs under its own prefix, Redis keys and servers, and restores
    // what it changes in process.env; nothing here mocks modules.
    isolate: false,
    // Leaked handles fail the run instead of hanging it.
    teardownTimeout: 10_000,
  },
});
