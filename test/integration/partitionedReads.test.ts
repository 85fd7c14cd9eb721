/**
 * The reads that span every partition (4 on a single Redis): `GET /v1/audit`
 * without a filter merges every chain by time and pages through them with a
 * cursor that neither loses nor repeats an entry, also when chains grow
 * between pages; the audit-head metrics show each chain; the queue dashboard
 * lists each partition's milestones and actions queues behind the same access;
 * the console's Upcoming page shows the people of every partition, and its
 * Alerts page the alerts of every chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import type { AuditEntry } from '../../src/store/audit.ts';
import { ConsoleClient } from '../helpers/console.ts';
import { rawAgent, rawRequest } from '../helpers/rawHttp.ts';
import { bearer, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';
import { plannedNow } from '../helpers/plan.ts';

let rt: Runtime;
const agent = rawAgent();

beforeAll(async () => {
  // API only: nothing consumes the queues, so what the board shows stays put.
  rt = await testRuntime(testSettings({}, { LASTDAY_PARTITIONS: '4' }), { roles: ['api'] });
});
afterAll(async () => {
  agent.destroy();
  await rt?.stop();
});

function call(method: string, path: string, headers: Record<string, string> = {}) {
  return rawRequest(rt.url!, method, path, { agent, headers });
}

/** One entry in the global chain (`p` undefined) or partition `p`'s, at `at`. */
function append(p: number | undefined, at: string, n: number) {
  const audit = p === undefined ? rt.ctx.audit : rt.ctx.shard(p).audit;
  return audit.append({ at, type: 'test.entry', actor: 'tester', details: { n, chain: p ?? 'global' } });
}

async function page(after: string | undefined, limit: number) {
  const query = new URLSearchParams({ limit: String(limit), ...(after !== undefined ? { after } : {}) });
  const res = await call('GET', `/v1/audit?${query}`, bearer(TOKENS.viewer));
  expect(res.status, res.text).toBe(200);
  const body = JSON.parse(res.text) as { entries: AuditEntry[]; count: number };
  expect(Object.keys(body).sort()).toEqual(['count', 'entries']);
  return { ...body, next: res.headers['lastday-next-after'] as string };
}

const label = (e: AuditEntry) => `${String(e.details.chain)}#${String(e.details.n)}`;

describe('GET /v1/audit over every chain', () => {
  it('merges the chains by time and pages with a stable cursor', async () => {
    expect(rt.ctx.partitions.count).toBe(4);
    const base = Date.parse('2026-11-30T10:00:00.000Z');
    const at = (s: number) => new Date(base + s * 1000).toISOString();
    // Written out of time order across chains; each chain in its own order.
    const writes: [number | undefined, number][] = [
      [2, 1],
      [0, 2],
      [undefined, 3],
      [3, 4],
      [1, 5],
      [2, 6],
      [undefined, 7],
      [0, 8],
      [1, 9],
      [3, 10],
    ];
    for (const [p, s] of writes) await append(p, at(s), s);
    const expected = [...writes].sort((a, b) => a[1] - b[1]).map(([p, s]) => `${p ?? 'global'}#${s}`);

    const whole = await page(undefined, 100);
    expect(whole.entries.map(label)).toEqual(expected);

    // Pages of 3: the same entries, in the same order, each once.
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const p = await page(after, 3);
      seen.push(...p.entries.map(label));
      expect(p.next).toMatch(/^m(\.\d+){5}$/);
      if (p.count === 0) {
        expect(p.next).toBe(after);
        break;
      }
      after = p.next;
    }
    expect(seen).toEqual(expected);

    // Entries appended after the last page, even dated earlier, come on the next one.
    await append(1, at(0), 0);
    await append(undefined, at(11), 11);
    const later = await page(after, 100);
    expect(later.entries.map(label)).toEqual(['1#0', 'global#11']);
  });

  it('refuses a bare seq as the cursor when there are several chains', async () => {
    const res = await call('GET', '/v1/audit?after=3', bearer(TOKENS.viewer));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('invalid_request');
    expect((await call('GET', '/v1/audit?after=m.1.2', bearer(TOKENS.viewer))).status).toBe(400);
    expect((await call('GET', '/v1/audit?after=0', bearer(TOKENS.viewer))).status).toBe(200);
  });

  it('shows every chain’s head on /metrics', async () => {
    const text = await (await fetch(`${rt.url}/metrics`)).text();
    for (const chain of ['global', '0', '1', '2', '3']) {
      const head = await (chain === 'global' ? rt.ctx.audit : rt.ctx.shard(Number(chain)).audit).head();
      expect(head.seq).toBeGreaterThan(0);
      expect(text).toContain(`lastday_audit_head_seq{chain="${chain}"} ${head.seq}`);
      expect(text).toContain(
        `lastday_audit_head_info{seq="${head.seq}",hash="${head.hash}",chain="${chain}"} 1`,
      );
    }
  });
});

describe('the queue dashboard with partitions', () => {
  it('lists each partition’s milestones and actions queues, to a viewer only', async () => {
    expect((await call('GET', '/ops/queues/api/queues')).status).toBe(401);
    const res = await call('GET', '/ops/queues/api/queues', bearer(TOKENS.viewer));
    expect(res.status, res.text).toBe(200);
    const names = (JSON.parse(res.text).queues as { name: string }[]).map((q) => q.name);
    for (let p = 0; p < 4; p++)
      expect(names).toEqual(expect.arrayContaining([`milestones:${p}`, `actions:${p}`]));
    expect(names).toEqual(expect.arrayContaining(['hr-events', 'ops']));
  });

  it('shows a partition’s jobs, and an admin pause reaches that partition’s queue', async () => {
    const queue = rt.ctx.shard(2).queues.milestones;
    await queue.add('notice', { probe: true } as never, { jobId: 'board-probe', delay: 3_600_000 });
    const path = `/ops/queues/api/queues/${encodeURIComponent('milestones:2')}`;
    const job = await call('GET', `${path}/board-probe`, bearer(TOKENS.viewer));
    expect(job.status, job.text).toBe(200);
    expect(JSON.parse(job.text).job).toMatchObject({ id: 'board-probe', data: { probe: true } });

    expect((await call('PUT', `${path}/pause`, bearer(TOKENS.viewer))).status).toBe(403);
    expect(await queue.isPaused()).toBe(false);
    const paused = await call('PUT', `${path}/pause`, bearer(TOKENS.admin));
    expect(paused.status, paused.text).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    expect(await rt.ctx.shard(1).queues.milestones.isPaused()).toBe(false);
    expect((await call('PUT', `${path}/resume`, bearer(TOKENS.admin))).status).toBe(200);
    expect(await queue.isPaused()).toBe(false);
    // Refused writes stay refused on partition queues too.
    expect((await call('PUT', `${path}/obliterate`, bearer(TOKENS.admin))).status).toBe(403);
    expect(await queue.getJob('board-probe')).toBeTruthy();
  });
});

describe('the console with partitions', () => {
  it('lists upcoming leavers of every partition, with and without a filter', async () => {
    const ids = ['upcoming-a', 'upcoming-b', 'upcoming-c', 'upcoming-d', 'upcoming-e', 'upcoming-f'];
    expect(new Set(ids.map((id) => rt.ctx.partitions.partitionOf(id))).size).toBeGreaterThan(1);
    for (const id of ids) await rt.ctx.people.save(plannedNow(id));
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.viewer);
    for (const path of ['/console', '/console?employment=contractor']) {
      const res = await c.get(path);
      expect(res.status).toBe(200);
      for (const id of ids) expect(res.html, `${path} lists ${id}`).toContain(`>${id}<`);
    }
  });

  it('shows the alerts of every chain, newest first', async () => {
    // A milestone_failed alert is written with its person's save (their
    // partition's chain); the others go to the global chain.
    const p = rt.ctx.partitions.partitionOf('alerted-person');
    await rt.ctx.audit.append({
      at: '2026-11-30T11:00:00.000Z',
      type: 'alert.drift',
      actor: 'lastday',
      details: { message: 'drift in the global chain' },
    });
    await rt.ctx.shard(p).audit.append({
      at: '2026-11-30T11:00:01.000Z',
      type: 'alert.milestone_failed',
      actor: 'lastday',
      personId: 'alerted-person',
      details: { message: 'revoke failing in a partition chain' },
    });
    const c = new ConsoleClient(rt.url!);
    await c.signIn(TOKENS.viewer);
    const res = await c.get('/console/alerts');
    expect(res.status).toBe(200);
    const partitioned = res.html.indexOf('revoke failing in a partition chain');
    const global = res.html.indexOf('drift in the global chain');
    expect(partitioned).toBeGreaterThan(-1);
    expect(global).toBeGreaterThan(partitioned);
  });
});
