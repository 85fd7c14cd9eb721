import { describe, expect, it } from 'vitest';
import { ARM_LEAD_MS, ARM_WAIT_MAX_MS, deliveryDelayMs, waitsForInstant } from '../../src/domain/armLead.ts';

describe('the arm lead', () => {
  const dueAt = '2027-03-10T17:00:00.000Z';
  const dueMs = Date.parse(dueAt);

  it('delivers a milestone job the lead before its instant, at once when that has passed', () => {
    expect(deliveryDelayMs(dueAt, dueMs - 3_600_000)).toBe(3_600_000 - ARM_LEAD_MS);
    expect(deliveryDelayMs(dueAt, dueMs - ARM_LEAD_MS)).toBe(0);
    expect(deliveryDelayMs(dueAt, dueMs - ARM_LEAD_MS / 2)).toBe(0);
    expect(deliveryDelayMs(dueAt, dueMs + 5_000)).toBe(0);
  });

  it('waits for an instant within the lead and the clocks’ tolerance; an earlier run goes back', () => {
    expect(waitsForInstant(1)).toBe(true);
    expect(waitsForInstant(ARM_LEAD_MS)).toBe(true);
    expect(waitsForInstant(ARM_WAIT_MAX_MS)).toBe(true);
    expect(waitsForInstant(ARM_WAIT_MAX_MS + 1)).toBe(false);
    expect(waitsForInstant(18 * 86_400_000)).toBe(false);
    // Due already: nothing to wait for.
    expect(waitsForInstant(0)).toBe(false);
    expect(waitsForInstant(-5)).toBe(false);
  });
});
