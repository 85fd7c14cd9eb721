/**
 * Finished jobs are bounded by the worker table, not by each job's options:
 * every queue lastday consumes keeps a bounded number of completed jobs, and
 * the options intake gives hr-events jobs stay short (a job hash's `opts`
 * field past 64 bytes costs Redis its compact encoding).
 */
import { describe, expect, it } from 'vitest';
import { WORKERS } from '../../src/app/workers.ts';
import { HR_EVENT_JOB_OPTIONS, hrEventBackoffMs } from '../../src/queues/intake.ts';
import { hrEventJobId } from '../../src/queues/names.ts';

describe('job retention', () => {
  it('every timeline worker keeps a bounded count of completed jobs', () => {
    for (const spec of WORKERS.filter((w) => w.role === 'worker')) {
      const completed = spec.retention?.completed;
      expect(completed?.count, spec.queue).toBeGreaterThan(0);
      expect(completed?.count, spec.queue).toBeLessThanOrEqual(100_000);
      expect(spec.retention?.failed, spec.queue).toHaveProperty('age');
    }
    expect(WORKERS.find((w) => w.queue === 'hr-events')?.retention?.completed.count).toBe(100);
  });

  it('hr-events jobs carry only attempts and a named backoff', () => {
    expect(Object.keys(HR_EVENT_JOB_OPTIONS).sort()).toEqual(['attempts', 'backoff']);
    // BullMQ stores the job id in `opts` too: room is left for a short one.
    const opts = { ...HR_EVENT_JOB_OPTIONS, jobId: hrEventJobId('e1') };
    expect(JSON.stringify(opts).length).toBeLessThanOrEqual(64);
  });

  it('hr-events backoff: 500 ms doubling, as the exponential strategy it replaces', () => {
    expect([1, 2, 3, 4].map(hrEventBackoffMs)).toEqual([500, 1_000, 2_000, 4_000]);
  });
});
