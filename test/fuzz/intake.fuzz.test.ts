/**
 * Fuzzing both ways in with arbitrary JSON: the signed HTTP intake
 * (`POST /v1/hr-events`) and job data added straight to the `hr-events` queue.
 * Inputs are JSON texts built key by key, so `__proto__`, `constructor` and
 * `prototype` arrive as real keys, next to huge strings and numbers, wrong types
 * and mutated valid events.
 *
 * Properties: nothing crashes (the server keeps answering 2xx/4xx, never 5xx;
 * the worker keeps finishing jobs), nothing pollutes a prototype, and every bad
 * event is rejected with reasons and kept (the rejected list grows by exactly
 * the number of bad inputs). `FC_RUNS` sets the runs per way in (default 100).
 */
import { Job } from 'bullmq';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { hrEventSchema } from '../../src/domain/hrEvent.ts';
import { eventually, signedHeaders, testRuntime } from '../helpers/lastday.ts';

const RUNS = Number(process.env.FC_RUNS ?? 100);
const TIMEOUT_MS = 30_000 + RUNS * 60;

/** A JSON object as an ordered list of entries, so any key (even `__proto__`) is written as is. */
class Obj {
  constructor(readonly entries: [string, Json][]) {}
}
type Json = string | number | boolean | null | Json[] | Obj;

function toText(node: Json): string {
  if (node instanceof Obj)
    return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
  if (Array.isArray(node)) return `[${node.map(toText).join(',')}]`;
  return JSON.stringify(node);
}

const dangerousKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'polluted',
);
const fieldKey = fc.constantFrom(
  'eventId',
  'type',
  'occurredAt',
  'person',
  'lastDay',
  'endTime',
  'effectiveAt',
  'reason',
);
const key = fc.oneof(fc.string({ maxLength: 12 }), dangerousKey, fieldKey);
const hugeString = fc.integer({ min: 5_000, max: 150_000 }).map((n) => 'x'.repeat(n));
const leaf: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e308, -1e308, 5e-324, 2 ** 64, -(2 ** 63), 0),
  fc.boolean(),
  fc.constant(null),
  hugeString,
);
const pollution: fc.Arbitrary<Json> = fc.constantFrom(
  new Obj([['polluted', 'yes']]),
  new Obj([['prototype', new Obj([['polluted', 'yes']])]]),
  new Obj([['__proto__', new Obj([['polluted', 'yes']])]]),
);
const { node } = fc.letrec<{ node: Json }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    pollution,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('node')), { maxLength: 5 }).map((e) => new Obj(e)),
  ),
}));

function validEntries(id: string): [string, Json][] {
  return [
    ['eventId', `fuzz-${id}`],
    ['type', 'contract.ending'],
    ['occurredAt', new Date().toISOString()],
    [
      'person',
      new Obj([
        ['id', `fuzz/${id}:p`],
        ['employment', 'contractor'],
        ['timezone', 'Europe/Berlin'],
      ]),
    ],
    ['lastDay', '2026-12-04'],
  ];
}

/** A valid event with 0–3 changes: fields replaced, dropped, or dangerous keys added, at the top or in `person`. */
const mutatedEvent: fc.Arbitrary<Json> = fc
  .tuple(
    fc.uuid(),
    fc.array(
      fc.oneof(
        fc.tuple(fc.constant('set' as const), fc.oneof(fieldKey, dangerousKey), node),
        fc.tuple(fc.constant('drop' as const), fieldKey, fc.constant(null)),
        fc.tuple(
          fc.constant('person' as const),
          fc.oneof(dangerousKey, fc.constantFrom('id', 'timezone', 'email')),
          node,
        ),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([id, changes]) => {
    let entries = validEntries(id);
    for (const [op, k, v] of changes) {
      if (op === 'drop') entries = entries.filter(([ek]) => ek !== k);
      else if (op === 'set') entries = [...entries.filter(([ek]) => ek !== k), [k, v]];
      else {
        // A new object, never a push into the old one: `person` may be a generated (or
        // constant) node that fast-check hands out again, and pushing into it made cycles.
        entries = entries.map(([ek, ev]) =>
          ek === 'person' && ev instanceof Obj ? [ek, new Obj([...ev.entries, [k, v]])] : [ek, ev],
        );
      }
    }
    return new Obj(entries);
  });

const input = fc.oneof(node, mutatedEvent, mutatedEvent);

let rt: Runtime;
const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  rt = await testRuntime();
});
afterAll(async () => {
  await rt?.stop();
});

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoNames);
  expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
  expect((Array.prototype as unknown as Record<string, unknown>).polluted).toBeUndefined();
}

describe('fuzzing the ways in', () => {
  it(
    'HTTP: every signed body gets a 2xx/4xx answer; bad ones are kept with reasons',
    async () => {
      const before = await rt.ctx.events.rejectedCount();
      let bad = 0;
      let good = 0;
      await fc.assert(
        fc.asyncProperty(input, async (json) => {
          const body = toText(json);
          const res = await fetch(`${rt.url}/v1/hr-events`, {
            method: 'POST',
            headers: signedHeaders(body),
            body,
          });
          const answer = (await res.json()) as {
            error?: { code: string; issues?: unknown[] };
            status?: string;
          };
          const valid = hrEventSchema.safeParse(JSON.parse(body)).success;
          if (valid) {
            good++;
            expect([200, 202]).toContain(res.status);
          } else {
            bad++;
            expect(res.status).toBe(400);
            expect(answer.error?.code).toBe('invalid_event');
            expect(answer.error?.issues?.length).toBeGreaterThan(0);
          }
          expectNoPollution();
        }),
        { numRuns: RUNS },
      );
      expect(await rt.ctx.events.rejectedCount()).toBe(before + bad);
      // The generator must reach both branches, or the test proves little.
      if (RUNS >= 50) expect(good).toBeGreaterThan(0);
      const health = await fetch(`${rt.url}/healthz`);
      expect(health.status).toBe(200);
    },
    TIMEOUT_MS,
  );

  it(
    'queue: any job data is applied or rejected with reasons; the worker keeps processing',
    async () => {
      const queue = rt.ctx.queues.hrEvents;
      const before = await rt.ctx.events.rejectedCount();
      let bad = 0;
      let good = 0;
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          input,
          fc.oneof(fc.constant(''), fc.string({ maxLength: 20 })),
          async (json, name) => {
            const data = JSON.parse(toText(json)) as unknown;
            const parsed = hrEventSchema.safeParse(data);
            const jobName = name === '' && parsed.success ? parsed.data.type : name || 'contract.ending';
            const job = await queue.add(jobName, data as object, {
              jobId: `fuzz-${process.pid}-${n++}`,
              attempts: 1,
            });
            const state = await eventually(async () => {
              const s = await Job.fromId(queue, job.id!).then((j) => j?.getState());
              return s === 'completed' || s === 'failed' ? s : undefined;
            });
            const valid = parsed.success && jobName === parsed.data.type;
            if (valid) {
              good++;
              expect(state).toBe('completed');
            } else {
              bad++;
              expect(state).toBe('failed');
            }
            expectNoPollution();
          },
        ),
        { numRuns: RUNS },
      );
      expect(await rt.ctx.events.rejectedCount()).toBe(before + bad);
      if (RUNS >= 50) expect(good).toBeGreaterThan(0);
      const kept = await rt.ctx.events.listRejected(Math.min(bad, 50));
      for (const r of kept) expect(r.issues.length).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});
