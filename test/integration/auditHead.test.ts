/**
 * The audit head published for an outside copy: on /metrics (read from Redis
 * at scrape) and in a log line on each reconcile pass, which also alerts, once,
 * when the stored head went below what this process had seen. A chain cut back
 * consistently (entries and head) verifies; only such a copy can tell.
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runOpsTask } from '../../jobs/ops/tasks.ts';
import { createContext } from '../../src/app/context.ts';
import { fieldMap } from '../../src/store/auditHash.ts';
import { LogCapture, testLogger, testRuntime, testSettings } from '../helpers/lastday.ts';

const closers: (() => Promise<void>)[] = [];
const raw = new Redis(inject('redisUrl'));

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  raw.disconnect();
});

const entry = (i: number) => ({
  at: new Date().toISOString(),
  type: 'test.entry',
  actor: 'tester',
  personId: `p-${i % 7}`,
  details: { i },
});

describe('the published head', () => {
  it('is on /metrics as the stored seq and hash', async () => {
    const rt = await testRuntime(testSettings(), { roles: ['api'] });
    closers.push(async () => void (await rt.stop()));
    await Promise.all(Array.from({ length: 3 }, (_, i) => rt.ctx.audit.append(entry(i))));
    const { hash } = await rt.ctx.audit.head();
    const text = await (await fetch(`${rt.url}/metrics`)).text();
    expect(text).toMatch(/^lastday_audit_head_seq 3$/m);
    expect(text).toContain(`lastday_audit_head_info{seq="3",hash="${hash}"} 1`);
    // A rollback shows as a seq going down.
    await raw.set(rt.ctx.keys.auditSeq, '2');
    expect(await (await fetch(`${rt.url}/metrics`)).text()).toMatch(/^lastday_audit_head_seq 2$/m);
  });

  it('is logged by each reconcile pass, which alerts when the head went back', async () => {
    const capture = new LogCapture();
    const settings = testSettings({}, { LOG_LEVEL: 'info' });
    const ctx = await createContext({
      settings,
      redisUrl: inject('redisUrl'),
      log: testLogger('info', capture),
    });
    closers.push(() => ctx.close());
    await Promise.all(Array.from({ length: 5 }, (_, i) => ctx.audit.append(entry(i))));
    const { hash } = await ctx.audit.head();

    const first = await runOpsTask(ctx, 'reconcile');
    expect(first.auditHead).toEqual({ seq: 5, hash });
    const logged = capture.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'audit head');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ auditHead: { seq: 5, hash } });

    // Cut back consistently (entries and head): verify cannot tell...
    const [, fields] = (await raw.xrange(ctx.keys.auditLog, '3-0', '3-0'))[0]!;
    await raw.xdel(ctx.keys.auditLog, '4-0', '5-0');
    await raw.xsetid(ctx.keys.auditLog, '3-0'); // else the next append is refused (stream_ahead)
    await raw.set(ctx.keys.auditSeq, '3');
    await raw.set(ctx.keys.auditHead, fieldMap(fields).hash!);
    expect(await ctx.audit.verify()).toMatchObject({ ok: true, entries: 3 });
    // ...but the published head went back, and this process remembers seq 5.
    const second = await runOpsTask(ctx, 'reconcile');
    expect(second.auditHead).toMatchObject({ seq: 3 });
    expect(capture.lines.some((l) => l.includes('the audit head went back from seq 5 to 3'))).toBe(true);
    expect((await ctx.audit.list({ afterSeq: 3 })).map((e) => e.type)).toEqual(['alert.audit_rollback']);
    // Once per rollback: the next pass starts from the head it found.
    await runOpsTask(ctx, 'reconcile');
    expect(capture.lines.filter((l) => l.includes('the audit head went back'))).toHaveLength(1);
  });
});
