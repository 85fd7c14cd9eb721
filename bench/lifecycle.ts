/**
 * Measures the lifecycle features of issue #13 on a private redis-server:
 *
 * - planning: applyHrEvent per person with the base policy, and with scopes
 *   and a country calendar (the contract's two scopes plus a DE-BY calendar);
 *   and the config load that turns the calendar into dates;
 * - the audit export of N entries through the HTTP API (`lastday audit
 *   export`'s client) and its offline verification (`verify-export`'s code),
 *   unkeyed and under a key.
 *
 *   npx tsx bench/lifecycle.ts [people=100000] [entries=100000]
 *
 * Not a test: timings depend on the machine. Prints one JSON line.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DateTime } from 'luxon';
import { Redis } from 'ioredis';
import { createLogger } from '../src/telemetry/logger.ts';
import { startRuntime } from '../src/app/runtime.ts';
import { ApiClient } from '../src/cli/apiClient.ts';
import { envSchema } from '../src/config/env.ts';
import { parseConfig } from '../src/config/load.ts';
import { hrEventSchema } from '../src/domain/hrEvent.ts';
import { applyHrEvent, type PersonRecord } from '../src/domain/person.ts';
import { plannedUnderOtherPolicy, replanUnderPolicy } from '../src/domain/replan.ts';
import { sha256Hex } from '../src/http/auth.ts';
import { chainHasher, contentHash, GENESIS } from '../src/store/auditHash.ts';
import { verifyAuditExport } from '../src/store/auditExportVerify.ts';
import { createKeys } from '../src/store/keys.ts';
import { startBenchRedis } from './lib/redis.ts';

const [people = 100_000, entries = 100_000] = process.argv.slice(2).map(Number);
const COUNTRIES = ['DE', 'US', 'FR', 'AT', undefined];
const DEPARTMENTS = ['Finance', 'Sales', 'IT', undefined];

function planning(policyConfig: Record<string, unknown>) {
  const loadStarted = performance.now();
  const { policy } = parseConfig({ policy: policyConfig });
  const loadMs = performance.now() - loadStarted;
  const events = Array.from({ length: people }, (_, i) =>
    hrEventSchema.parse({
      eventId: `e-${i}`,
      type: 'contract.ending',
      occurredAt: '2026-11-01T00:00:00Z',
      person: {
        id: `p-${i}`,
        employment: i % 3 === 0 ? 'contractor' : 'employee',
        timezone: i % 2 === 0 ? 'Europe/Berlin' : 'America/New_York',
        ...(COUNTRIES[i % 5] ? { country: COUNTRIES[i % 5] } : {}),
        ...(DEPARTMENTS[i % 4] ? { department: DEPARTMENTS[i % 4] } : {}),
      },
      lastDay: DateTime.fromISO('2027-01-04')
        .plus({ days: i % 300 })
        .toISODate(),
    }),
  );
  const now = DateTime.fromISO('2026-11-01T00:00:00Z');
  const records: PersonRecord[] = [];
  const started = performance.now();
  for (const event of events) {
    const r = applyHrEvent(undefined, event, policy, now);
    if (r.outcome === 'applied') records.push(r.record);
  }
  const ms = performance.now() - started;
  // A holiday added to the base policy (and so to every scope that keeps the base's list).
  const changed = parseConfig({
    policy: { ...policyConfig, holidays: [...(policyConfig.holidays as string[]), '2027-03-15'] },
  }).policy;
  const replanStarted = performance.now();
  let stale = 0;
  let moved = 0;
  for (const record of records) {
    if (!plannedUnderOtherPolicy(record, changed)) continue;
    stale++;
    const r = replanUnderPolicy(record, changed, now);
    if (r.outcome === 'replanned' && r.moved.length > 0) moved++;
  }
  const replanMs = performance.now() - replanStarted;
  return {
    configLoadMs: round(loadMs),
    perPersonUs: round((ms * 1000) / people),
    totalMs: round(ms),
    replanAfterHoliday: { totalMs: round(replanMs), stale, moved },
  };
}

/** N entries written straight into the stream, chained as lastday chains them. */
async function writeChain(redis: Redis, prefix: string, n: number, key?: string) {
  const keys = createKeys(prefix);
  const hasher = chainHasher(key);
  let prev = GENESIS;
  for (let from = 1; from <= n; from += 1000) {
    const pipeline = redis.pipeline();
    for (let seq = from; seq < Math.min(from + 1000, n + 1); seq++) {
      const c = {
        at: new Date(Date.UTC(2026, 10, 1) + seq * 1000).toISOString(),
        type: 'hr_event.applied',
        actor: 'hr',
        personId: `person-${seq % 5000}`,
        actionId: '',
        details: JSON.stringify({
          eventId: `wd-${seq}`,
          planVersion: 1,
          lastDay: '2027-01-04',
          note: 'a typical entry',
        }),
      };
      const hash = hasher.link(prev, seq, contentHash(c));
      pipeline.xadd(keys.auditLog, `${seq}-0`, ...Object.entries(c).flat(), 'prevHash', prev, 'hash', hash);
      prev = hash;
    }
    await pipeline.exec();
  }
  await redis.set(keys.auditSeq, String(n));
  await redis.set(keys.auditHead, prev);
}

async function exportAndVerify(redisUrl: string, redis: Redis, key?: string) {
  const prefix = `bench-export-${key ? 'keyed' : 'plain'}`;
  await writeChain(redis, prefix, entries, key);
  const token = 'bench-viewer';
  const rt = await startRuntime({
    settings: {
      env: envSchema.parse({
        LASTDAY_PREFIX: prefix,
        LOG_LEVEL: 'silent',
        ...(key ? { LASTDAY_AUDIT_KEY: key } : {}),
      }),
      config: parseConfig({
        auth: { tokens: [{ name: 'v', role: 'viewer', sha256: sha256Hex(token) }] },
        crons: {
          reconcile: { enabled: false },
          overdue: { enabled: false },
          holdExpiry: { enabled: false },
          retention: { enabled: false },
        },
      }),
    },
    redisUrl,
    log: createLogger('silent'),
    roles: ['api'],
    listen: { host: '127.0.0.1', port: 0 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'lastday-bench-export-'));
  const file = join(dir, 'audit.ndjson');
  try {
    const api = new ApiClient({ url: rt.url!, token });
    const out = createWriteStream(file);
    let bytes = 0;
    const exportStarted = performance.now();
    for await (const chunk of api.auditExport()) {
      bytes += chunk.byteLength;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    const exportMs = performance.now() - exportStarted;
    const verifyStarted = performance.now();
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    const result = await verifyAuditExport(lines, { key });
    const verifyMs = performance.now() - verifyStarted;
    if (!result.ok || result.entries !== entries)
      throw new Error(`export did not verify: ${JSON.stringify(result)}`);
    return { exportMs: round(exportMs), verifyMs: round(verifyMs), megabytes: round(bytes / 1e6) };
  } finally {
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(n: number) {
  return Math.round(n * 10) / 10;
}

const redisServer = await startBenchRedis();
const redis = new Redis(redisServer.url);
try {
  const scopes = [
    {
      name: 'germany',
      match: { country: 'DE' },
      holidays: ['2026-12-24', '2026-12-26'],
      defaultEndTime: '16:00',
      holidayCalendar: 'DE-BY',
    },
    {
      name: 'finance-contractors',
      match: { department: 'Finance', employment: 'contractor' },
      reduce: { contractorBusinessDays: 5 },
    },
    { name: 'us', match: { country: 'US' }, holidayCalendar: 'US' },
  ];
  const result = {
    people,
    entries,
    planning: {
      base: planning({ holidays: ['2026-12-25'] }),
      scopesAndCalendars: planning({ holidays: ['2026-12-25'], holidayCalendar: 'FR', scopes }),
    },
    export: {
      sha256: await exportAndVerify(redisServer.url, redis),
      hmac: await exportAndVerify(redisServer.url, redis, 'bench-audit-key'),
    },
  };
  console.log(JSON.stringify(result));
} finally {
  redis.disconnect();
  await redisServer.stop();
}
