import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker per core minus one: one on a 2-core machine,
    // so the files ran one after another. They mostly wait (real Redis, child
    // processes, real-time instants), so three share two cores well: the suite
    // went from 440 s to 205 s on the CI machine with nothing else running.
    maxWorkers: 3,
    // Leaked handles fail the run instead of hanging it.
    teardownTimeout: 10_000,
  },
});
