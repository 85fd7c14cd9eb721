/**
 * No worker asks BullMQ for an AbortSignal it does not use: BullMQ builds an
 * AbortController for every job of a processor that declares a third
 * parameter, and no lastday processor reads one (src/app/workers.ts, byPerson).
 */
import { describe, expect, it } from 'vitest';
import type { Context } from '../../src/app/context.ts';
import { WORKERS } from '../../src/app/workers.ts';

/** A context that answers every property with another such object: processors are only built, never run. */
function inertContext(): Context {
  const handler: ProxyHandler<object> = {
    get: (_t, key) => (key === 'count' ? 1 : key === Symbol.toPrimitive ? () => 0 : inert),
    apply: () => inert,
  };
  const inert: object = new Proxy(function () {}, handler);
  return inert as unknown as Context;
}

describe('worker processors', () => {
  it('take (job, token) only, so BullMQ builds no AbortController per job', () => {
    for (const spec of WORKERS) {
      expect(spec.processor(inertContext()).length, spec.queue).toBeLessThanOrEqual(2);
    }
  });
});
