/**
 * Once per test run: builds dist/ (bin/build.js, about a second) so every
 * `lastday` the tests spawn runs JavaScript instead of compiling the sources
 * through tsx at each start, and starts the run's own redis-server, whose URL
 * every test file gets.
 */
import type { TestProject } from 'vitest/node';
import { build } from '../../bin/build.js';
import { startTestRedis, type TestRedis } from './redisServer.ts';

let redis: TestRedis | undefined;

export async function setup(project: TestProject): Promise<void> {
  [redis] = await Promise.all([startTestRedis(), build()]);
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
