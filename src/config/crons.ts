/**
 * The `crons` and `alerts` sections of the config file: which scheduled
 * triggers run (BullMQ job schedulers, upserted by the `scheduler` role), when,
 * in which zone, and where alerts are posted.
 */
import { CronExpressionParser } from 'cron-parser';
import { IANAZone } from 'luxon';
import { z } from 'zod';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name' });

/** A 5- or 6-field cron pattern that cron-parser (BullMQ's parser) accepts. */
const pattern = z.string().refine(
  (p) => {
    try {
      CronExpressionParser.parse(p);
      return p.trim().split(/\s+/).length >= 5;
    } catch {
      return false;
    }
  },
  { message: 'expected a cron pattern such as */5 * * * *' },
);
const tz = z.string().refine((v) => IANAZone.isValidZone(v), {
  message: 'expected an IANA time zone such as UTC or Europe/Berlin',
});

function trigger<T extends z.ZodRawShape>(defaults: { enabled: boolean; pattern: string }, extra: T) {
  return z
    .object({
      /** Whether the scheduler role runs it. */
      enabled: z.boolean().default(defaults.enabled),
      /** Cron pattern, evaluated in `tz`. */
      pattern: pattern.default(defaults.pattern),
      /** Zone of the pattern; explicit so a host's TZ never shifts a schedule. Default UTC. */
      tz: tz.default('UTC'),
      ...extra,
    })
    .strict()
    .prefault({} as never); // every field has a default
}

export const cronsSchema = z
  .object({
    /** Re-creates lost milestone jobs and runs past-due milestones. Default every 5 minutes. */
    reconcile: trigger(
      { enabled: true, pattern: '*/5 * * * *' },
      {
        /** When `rosterSync.source` is set, sync the roster first (people known only to HR). Default true. */
        withRoster: z.boolean().default(true),
      },
    ),
    /** Reads an HR roster and emits HR events for the differences. Off by default. */
    rosterSync: trigger(
      { enabled: false, pattern: '*/15 * * * *' },
      {
        /** A file path or an http(s) URL. */
        source: z.string().min(1).optional(),
        /** Default: from the file extension or content type, else json. */
        format: z.enum(['json', 'csv']).optional(),
        /** Environment variable holding a bearer token for an http(s) source. */
        tokenEnv: envName.optional(),
        /**
         * Cancel offboardings the roster introduced once their row disappears
         * (before `revoke` only). Default false: removals are reported, not acted on.
         */
        cancelRemoved: z.boolean().default(false),
        /** More removals than this in one run is treated as a broken roster: none are cancelled. */
        maxRemovals: z.number().int().min(0).default(25),
        timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
      },
    ),
    /** Logs, counts and alerts milestones late by more than `overdueAfterMinutes`. Default every minute. */
    overdue: trigger(
      { enabled: true, pattern: '* * * * *' },
      { overdueAfterMinutes: z.number().min(0).max(10_080).default(15) },
    ),
    /** Cancels holds past `policy.holdExpiryHours` (filled in by the action gate). Default every minute. */
    holdExpiry: trigger({ enabled: true, pattern: '* * * * *' }, {}),
    /** Deletes finished actions and rejected events past the `retention` section's days. Default daily, 03:17 UTC. */
    retention: trigger({ enabled: true, pattern: '17 3 * * *' }, {}),
  })
  .strict()
  .superRefine((crons, ctx) => {
    if (crons.rosterSync.enabled && !crons.rosterSync.source) {
      ctx.addIssue({ code: 'custom', path: ['rosterSync', 'source'], message: 'required when enabled' });
    }
    if (crons.rosterSync.source !== undefined && hasUrlCredentials(crons.rosterSync.source)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rosterSync', 'source'],
        message: `${CREDENTIALS_REFUSED}; give the roster a bearer token in tokenEnv`,
      });
    }
  });

/**
 * Why a URL with `user:password@` is refused (the value is never echoed): fetch
 * will not send one, and the error it throws quotes the URL whole, password
 * included, into logs and results.
 */
const CREDENTIALS_REFUSED = 'credentials in the URL (user:password@) are never sent and would be logged';

/** Whether an http(s) URL carries a user name or password. */
export function hasUrlCredentials(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    // Not a URL at all: what names it (a file path) will say so when it is read.
    return /^https?:\/\/[^/?#]*@/i.test(value);
  }
}

export const alertsSchema = z
  .object({
    /** Alerts are POSTed here, signed per Standard Webhooks with the secret in `secretEnv`. */
    webhookUrl: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).optional(),
    secretEnv: envName.optional(),
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.webhookUrl && !a.secretEnv) {
      ctx.addIssue({ code: 'custom', path: ['secretEnv'], message: 'required with webhookUrl' });
    }
    if (a.webhookUrl && hasUrlCredentials(a.webhookUrl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookUrl'],
        message: `${CREDENTIALS_REFUSED}; alerts are signed with the secret in secretEnv`,
      });
    }
  });

export type CronsConfig = z.infer<typeof cronsSchema>;
export type CronName = keyof CronsConfig;
export type AlertsConfig = z.infer<typeof alertsSchema>;
