/** Starts the test run's own redis-server and hands its URL to every test file. */
import type { TestProject } from 'vitest/node';
import { startTestRedis, type TestRedis } from './redisServer.ts';

let redis: TestRedis | undefined;

export async function setup(project: TestProject): Promise<void> {
  redis = await startTestRedis();
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
