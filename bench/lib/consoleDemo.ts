/**
 * A lastday API (no workers) on the bench's own Redis, filled with leavers
 * written straight through the people store (the plan computed by the domain,
 * as the HR worker would), for the console's render bench and its screenshot.
 */
import { DateTime } from 'luxon';
import { createLogger } from '../../src/telemetry/logger.ts';
import { type Runtime, startRuntime } from '../../src/app/runtime.ts';
import { envSchema } from '../../src/config/env.ts';
import { parseConfig } from '../../src/config/load.ts';
import { hrEventSchema } from '../../src/domain/hrEvent.ts';
import { applyHrEvent } from '../../src/domain/person.ts';
import { sha256Hex } from '../../src/http/auth.ts';

export const DEMO_TOKENS = { viewer: 'demo-viewer-token', approver: 'demo-approver-token' } as const;

const ZONES = [
  'America/Los_Angeles',
  'America/New_York',
  'Europe/Berlin',
  'Europe/London',
  'Asia/Kolkata',
  'Asia/Tokyo',
  'Australia/Sydney',
];
const COUNTRIES: Record<string, string> = {
  'America/Los_Angeles': 'US',
  'America/New_York': 'US',
  'Europe/Berlin': 'DE',
  'Europe/London': 'GB',
  'Asia/Kolkata': 'IN',
  'Asia/Tokyo': 'JP',
  'Australia/Sydney': 'AU',
};

export async function startConsoleDemo(redisUrl: string, prefix: string): Promise<Runtime> {
  return startRuntime({
    settings: {
      env: envSchema.parse({
        LASTDAY_PREFIX: prefix,
        LASTDAY_HR_WEBHOOK_SECRET: `whsec_${Buffer.from('console-demo-hr-secret-0123456789').toString('base64')}`,
        LASTDAY_ACTION_SECRET: `whsec_${Buffer.from('console-demo-action-secret-01234').toString('base64')}`,
        LOG_LEVEL: 'silent',
      }),
      config: parseConfig({
        policy: {
          scopes: [
            { name: 'germany', match: { country: 'DE' }, defaultEndTime: '16:00' },
            { name: 'finance-contractors', match: { department: 'Finance', employment: 'contractor' } },
          ],
        },
        protectedTargets: ['account:@vip-*'],
        auth: {
          tokens: [
            { name: 'ops-viewer', role: 'viewer', sha256: sha256Hex(DEMO_TOKENS.viewer) },
            {
              name: 'ops-alice',
              role: 'approver',
              personId: 'alice',
              sha256: sha256Hex(DEMO_TOKENS.approver),
            },
            { name: 'tools', role: 'system', sha256: sha256Hex('demo-system-token') },
          ],
        },
      }),
    },
    redisUrl,
    log: createLogger('silent'),
    roles: ['api'],
    listen: { host: '127.0.0.1', port: 0 },
  });
}

const NAMES = [
  'Sam Rivera',
  'Mina Park',
  'Jonas Weber',
  'Priya Nair',
  'Kenji Sato',
  'Olivia Brown',
  'Lucas Martin',
];

/** Writes `count` people leaving over the next `days` days, spread over zones, employment and scopes. */
export async function addLeavers(rt: Runtime, count: number, days = 88): Promise<void> {
  const now = DateTime.utc();
  const { ctx } = rt;
  const batch = 200;
  for (let start = 0; start < count; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, async (_, j) => {
        const i = start + j;
        const zone = ZONES[i % ZONES.length]!;
        // A week out at least, so every milestone of the demo is still ahead.
        const lastDay = now.plus({ days: 8 + ((i * 7919) % days) }).setZone(zone);
        const employment = i % 3 === 0 ? 'employee' : 'contractor';
        const event = hrEventSchema.parse({
          eventId: `demo-${i}`,
          type: 'contract.ending',
          occurredAt: now.toISO(),
          person: {
            id: i < NAMES.length ? `c-${1042 + i}` : `p-${String(i).padStart(5, '0')}`,
            email: `person${i}@corp.example`,
            name: NAMES[i % NAMES.length],
            employment,
            timezone: zone,
            country: COUNTRIES[zone],
            ...(i % 5 === 0 ? { department: 'Finance' } : {}),
          },
          lastDay: lastDay.toISODate(),
          ...(i % 4 === 0 ? { endTime: '12:30' } : {}),
        });
        const applied = applyHrEvent(undefined, event, ctx.policy, now);
        if (applied.outcome !== 'applied') throw new Error(`demo person ${i}: ${applied.outcome}`);
        await ctx.people.save(applied.record);
      }),
    );
  }
}
