/**
 * Measures the guard's hot path and its heaviest write:
 *   - gate latency in-process (GuardService.gate) and over HTTP (POST /v1/actions/:id/gate), p50/p99;
 *   - time for the freeze hook to hold 10,000 pending actions of one person.
 * Runs on its own throwaway redis-server. Usage: npx tsx bench/guard.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedRedis } from '../src/app/embeddedRedis.ts';
import { createLogger } from '../src/app/logger.ts';
import { startRuntime } from '../src/app/runtime.ts';
import { envSchema } from '../src/config/env.ts';
import { parseConfig } from '../src/config/load.ts';
import { guardFor } from '../src/guard/instances.ts';
import { sha256Hex } from '../src/http/auth.ts';

const GATE_ACTIONS = 1_000;
const GATE_CALLS = 20_000;
const HTTP_CALLS = 10_000;
const FREEZE_ACTIONS = 10_000;

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5).toFixed(3), p99: at(0.99).toFixed(3), n: samples.length };
}

const dir = mkdtempSync(join(tmpdir(), 'lastday-bench-'));
const redis = await startEmbeddedRedis(dir, { persistent: false });
const system = 'bench-system';
const settings = {
  env: envSchema.parse({ LASTDAY_PREFIX: 'bench', LOG_LEVEL: 'silent' }),
  config: parseConfig({
    protectedTargets: ['account:@vip-*'],
    auth: { tokens: [{ name: 'system', role: 'system', sha256: sha256Hex(system) }] },
  }),
};
const rt = await startRuntime({
  settings,
  redisUrl: redis.url,
  log: createLogger('silent'),
  listen: { host: '127.0.0.1', port: 0 },
});
try {
  const guard = guardFor(rt.ctx);
  const actor = { name: 'bench' };

  // A known, active initiator (HR record present) so the gate parses a real person.
  const plan = {
    eventId: 'bench-plan',
    type: 'contract.ending',
    occurredAt: new Date().toISOString(),
    person: {
      id: 'p-active',
      email: 'p@example.com',
      name: 'P',
      employment: 'employee',
      timezone: 'Europe/Berlin',
    },
    lastDay: '2030-06-28',
  };
  await rt.ctx.queues.hrEvents.add('contract.ending', plan, { jobId: 'bench-plan' });
  for (let i = 0; !(await rt.ctx.people.get('p-active')) && i < 200; i++)
    await new Promise((r) => setTimeout(r, 25));

  for (let i = 0; i < GATE_ACTIONS; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        guard.register(
          {
            actionId: `g-${i + j}`,
            initiatorId: 'p-active',
            kind: 'account.deactivate',
            target: `account:${i + j}`,
          },
          actor,
        ),
      ),
    );
  }
  // First allow of each action writes its audit entry once; measure it apart.
  const first: number[] = [];
  for (let i = 0; i < GATE_ACTIONS; i++) {
    const t = performance.now();
    await guard.gate(`g-${i}`, actor);
    first.push(performance.now() - t);
  }
  const inProcess: number[] = [];
  for (let i = 0; i < GATE_CALLS; i++) {
    const t = performance.now();
    const r = await guard.gate(`g-${i % GATE_ACTIONS}`, actor);
    inProcess.push(performance.now() - t);
    if (r.decision !== 'allow') throw new Error('unexpected decision');
  }
  const http: number[] = [];
  const headers = { authorization: `Bearer ${system}` };
  for (let i = 0; i < HTTP_CALLS; i++) {
    const t = performance.now();
    const res = await fetch(`${rt.url}/v1/actions/g-${i % GATE_ACTIONS}/gate`, { method: 'POST', headers });
    await res.arrayBuffer();
    http.push(performance.now() - t);
  }
  console.log('gate, in-process, first allow (audited once), ms', percentiles(first));
  console.log('gate, in-process, steady, ms', percentiles(inProcess));
  console.log('gate, over HTTP (keep-alive, sequential), ms', percentiles(http));

  // Freeze of 10,000 pending actions.
  const leaver = 'p-leaver';
  await rt.ctx.queues.hrEvents.add(
    'contract.ending',
    { ...plan, eventId: 'bench-leaver', person: { ...plan.person, id: leaver } },
    { jobId: 'bench-leaver' },
  );
  let record = await rt.ctx.people.get(leaver);
  for (let i = 0; !record && i < 200; i++) {
    await new Promise((r) => setTimeout(r, 25));
    record = await rt.ctx.people.get(leaver);
  }
  const tReg = performance.now();
  for (let i = 0; i < FREEZE_ACTIONS; i += 200) {
    await Promise.all(
      Array.from({ length: 200 }, (_, j) =>
        guard.register(
          {
            actionId: `f-${i + j}`,
            initiatorId: leaver,
            kind: 'account.deactivate',
            target: `account:f${i + j}`,
          },
          actor,
        ),
      ),
    );
  }
  console.log(`registered ${FREEZE_ACTIONS} pending actions in ${(performance.now() - tReg).toFixed(0)} ms`);
  const t = performance.now();
  const counts = await guard.freeze(record!);
  const ms = performance.now() - t;
  const held = await guard.actions.countInState('held');
  console.log(
    `freeze of ${FREEZE_ACTIONS} pending actions: ${ms.toFixed(0)} ms`,
    counts,
    `held index: ${held}`,
  );
  // Of which: adding the 10,000 per-action expiry jobs (measured apart, on other ids).
  const ids = Array.from({ length: FREEZE_ACTIONS }, (_, i) => `expiry-only-${i}`);
  const tJobs = performance.now();
  for (let i = 0; i < ids.length; i += 500) {
    await guard.scheduleHoldExpiry(ids.slice(i, i + 500), new Date().toISOString());
  }
  console.log(
    `  of which ~${(performance.now() - tJobs).toFixed(0)} ms is adding ${FREEZE_ACTIONS} expiry jobs`,
  );
} finally {
  await rt.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
