/**
 * /metrics of a running lastday carries Node's process metrics under their
 * stock names (`process_*`, `nodejs_*`), so standard Node dashboards and
 * alerts work unchanged; lastday's own metrics keep the `lastday_` prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { testRuntime } from '../helpers/lastday.ts';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime(undefined, { roles: ['api'] });
});
afterAll(async () => {
  await rt?.stop();
});

describe('/metrics names', () => {
  it('uses the stock process and Node.js names, without a doubled prefix', async () => {
    const res = await fetch(`${rt.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const types = new Set(
      text
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2]),
    );
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'lastday_hr_events_accepted_total',
    ])
      expect(types, name).toContain(name);
    expect(text).not.toMatch(/lastday_process_/);
    // Every metric is either a stock Node one or lastday's own.
    expect([...types].filter((n) => !/^(process_|nodejs_|lastday_)/.test(n ?? ''))).toEqual([]);
  });
});
