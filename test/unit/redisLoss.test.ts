/**
 * The Redis-loss log: one line when lost, reminders with a doubling interval
 * up to a cap (driven by an injected clock), one line when back.
 */
import { describe, expect, it } from 'vitest';
import { isConnectionError, RedisLossLog } from '../../src/queues/redisLoss.ts';
import { LogCapture, testLogger } from '../helpers/lastday.ts';

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
}

function setup() {
  const capture = new LogCapture();
  let now = 1_000_000;
  const loss = new RedisLossLog(testLogger('info', capture), {
    now: () => now,
    firstReminderMs: 30_000,
    maxReminderMs: 120_000,
  });
  const lines = () => capture.lines.map((l) => JSON.parse(l) as { msg: string; failures?: number });
  return { loss, lines, advance: (ms: number) => (now += ms) };
}

describe('RedisLossLog', () => {
  it('logs a loss once, then reminders at 30 s, 60 s, 120 s, 120 s, and once when back', () => {
    const { loss, lines, advance } = setup();
    // Ten connections failing every 200 ms for ten minutes: 30,000 failures.
    const reminderAt: number[] = [];
    let t = 0;
    for (let i = 0; i < 3_000; i++) {
      for (let c = 0; c < 10; c++) {
        const before = lines().length;
        loss.failed(`conn-${c}`, refused());
        if (lines().length > before && i > 0) reminderAt.push(t);
      }
      advance(200);
      t += 200;
    }
    expect(lines()[0]?.msg).toMatch(/redis connection lost/);
    expect(reminderAt).toEqual([30_000, 90_000, 210_000, 330_000, 450_000, 570_000]);
    expect(
      lines()
        .slice(1)
        .every((l) => l.msg === 'redis still unreachable'),
    ).toBe(true);
    // Each reminder says how many failures it stands for.
    expect(lines()[1]?.failures).toBeGreaterThan(1_000);

    loss.ready('conn-3');
    loss.ready('conn-4');
    expect(lines().at(-1)?.msg).toBe('redis connection back');
    expect(lines().filter((l) => l.msg === 'redis connection back')).toHaveLength(1);
    expect(loss.lost).toBe(false);
  });

  it('starts over after Redis came back', () => {
    const { loss, lines, advance } = setup();
    loss.failed('a', refused());
    advance(5_000);
    loss.ready('a');
    loss.failed('a', refused());
    advance(1_000);
    loss.failed('b', refused());
    expect(lines().map((l) => l.msg)).toEqual([
      expect.stringMatching(/redis connection lost/),
      'redis connection back',
      expect.stringMatching(/redis connection lost/),
    ]);
  });

  it('routes only connection errors to itself', () => {
    const { loss } = setup();
    const other: Error[] = [];
    const route = loss.route('worker:x', (e) => other.push(e));
    route(refused());
    route(new Error('Connection is closed.'));
    route(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    route(new Error('Missing lock for job 1. moveToFinished'));
    expect(other.map((e) => e.message)).toEqual(['Missing lock for job 1. moveToFinished']);
    expect(isConnectionError('ECONNREFUSED')).toBe(false);
  });

  it('is quiet once silenced (a forced shutdown cuts connections on purpose)', () => {
    const { loss, lines } = setup();
    loss.silence();
    loss.failed('a', refused());
    loss.ready('a');
    expect(lines()).toEqual([]);
  });
});
