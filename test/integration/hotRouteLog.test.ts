/**
 * The gate is a hot route (src/http/requestLog.ts): at `info` it writes no
 * `incoming request` / `request completed` lines, where other routes do, and
 * a gate request that fails is still logged with its request id; no line
 * carries the bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { api } from '../helpers/http.ts';
import { bearer, LogCapture, TOKENS, testLogger, testRuntime, testSettings } from '../helpers/lastday.ts';

const capture = new LogCapture();
let rt: Runtime;

beforeAll(async () => {
  rt = await testRuntime(testSettings(), { roles: ['api'], log: testLogger('info', capture) });
});
afterAll(async () => {
  await rt?.stop();
});

const parsed = () => capture.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const about = (path: string) =>
  parsed().filter((l) => (l.req as { url?: string } | undefined)?.url === path || l.url === path);

describe('request logs on the hot route', () => {
  it('writes none for a gate check, while other routes keep theirs', async () => {
    await rt.ctx.guard.register(
      { actionId: 'hot-1', initiatorId: 'someone', kind: 'k', target: 't' },
      { name: 'system' },
    );
    const system = bearer(TOKENS.system);
    for (let i = 0; i < 3; i++) {
      const gate = await api(rt.url!, 'POST', '/v1/actions/hot-1/gate', undefined, system);
      expect(gate.body.decision).toBe('allow');
    }
    await api(rt.url!, 'GET', '/v1/actions/hot-1', undefined, bearer(TOKENS.viewer));
    expect(about('/v1/actions/hot-1/gate')).toEqual([]);
    const msgs = parsed().map((l) => l.msg);
    expect(about('/v1/actions/hot-1').map((l) => l.msg)).toContain('incoming request');
    expect(msgs).toContain('request completed');
  });

  it('still logs a failed gate request, with its request id', async () => {
    const guard = rt.ctx.guard;
    const gate = guard.gate.bind(guard);
    guard.gate = () => Promise.reject(new Error('boom'));
    try {
      const answer = await api(rt.url!, 'POST', '/v1/actions/hot-1/gate', undefined, bearer(TOKENS.system));
      expect(answer.status).toBe(500);
    } finally {
      guard.gate = gate;
    }
    const failed = parsed().filter((l) => l.msg === 'request failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 50, reqId: expect.any(String), err: expect.anything() });
    expect(capture.lines.join('\n')).not.toContain(TOKENS.system);
  });
});
