/**
 * The config file (contract section 6), validated strictly: an unknown or
 * misspelt field stops start-up instead of being ignored.
 */
import { z } from 'zod';
import { policySchema } from '../domain/policy.ts';
import { alertsSchema, cronsSchema } from './crons.ts';
import { checkCalendars, withCalendars } from './holidays.ts';
import { notificationsSchema } from './notifications.ts';
import { retentionSchema } from './retention.ts';

const name = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, { message: 'expected letters, digits, _ . - only' });
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name' });
const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' });
const timeoutMs = z.number().int().min(100).max(300_000);

const directoryConnector = z
  .object({ type: z.literal('directory'), name: name.default('directory') })
  .strict();

const scimConnector = z
  .object({
    type: z.literal('scim'),
    name,
    /** The SCIM base, ending before `/Users` (lastday appends `/Users`, `/Groups`). */
    baseUrl: httpUrl.refine((u) => !/\/(Users|Groups)\/?$/i.test(u), {
      message: 'expected the SCIM base URL, ending before /Users',
    }),
    tokenEnv: envName,
    match: z
      .object({
        attribute: z.enum(['userName', 'externalId', 'emails']).default('userName'),
        from: z.enum(['id', 'email']).default('id'),
      })
      .strict()
      .prefault({}),
    privilegedGroups: z.array(z.string().min(1)).default([]),
    removeAllGroupsOnRevoke: z.boolean().default(true),
    timeoutMs: timeoutMs.default(10_000),
    concurrency: z.number().int().min(1).max(100).default(4),
  })
  .strict();

const webhookConnector = z
  .object({
    type: z.literal('webhook'),
    name,
    url: httpUrl,
    secretEnv: envName,
    timeoutMs: timeoutMs.default(10_000),
    concurrency: z.number().int().min(1).max(100).default(8),
  })
  .strict();

/** A distinguished name, loosely: `attr=value` pairs; the server is the judge of the rest. */
const dn = z
  .string()
  .min(3)
  .regex(/^[A-Za-z][A-Za-z0-9-]*=/, { message: 'expected a DN, e.g. dc=corp,dc=example' });

const ldapConnector = z
  .object({
    type: z.literal('ldap'),
    name,
    url: z.url({ protocol: /^ldaps?$/, message: 'expected an ldap:// or ldaps:// URL' }),
    bindDn: z.string().min(1),
    passwordEnv: envName,
    baseDn: dn,
    /** RFC 4515 filter with `{id}` and/or `{email}`; the registry parses it (src/connectors/ldapFilter.ts). */
    userFilter: z
      .string()
      .regex(/^\(.*\)$/s, { message: 'expected a parenthesized LDAP filter, e.g. (uid={id})' })
      .refine((f) => /\{(id|email)\}/.test(f), { message: 'expected {id} or {email} in the filter' }),
    /** Where groups are searched; default `baseDn`. */
    groupBaseDn: dn.optional(),
    privilegedGroups: z.array(z.string().min(1)).default([]),
    /** How accounts are disabled: `ad` userAccountControl bit 2, `openldap` ppolicy lock. */
    flavor: z.enum(['openldap', 'ad']).default('openldap'),
    timeoutMs: timeoutMs.default(10_000),
    concurrency: z.number().int().min(1).max(100).default(4),
  })
  .strict()
  .transform((c) => ({ ...c, groupBaseDn: c.groupBaseDn ?? c.baseDn }));

export const connectorSchema = z.discriminatedUnion('type', [
  directoryConnector,
  scimConnector,
  webhookConnector,
  ldapConnector,
]);

export const ROLES = ['viewer', 'approver', 'admin', 'system'] as const;
export type Role = (typeof ROLES)[number];

const tokenSchema = z
  .object({
    name: z.string().min(1).max(100),
    role: z.enum(ROLES),
    personId: z.string().min(1).max(200).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, { message: 'expected the 64 hex digits of the token SHA-256' })
      .transform((s) => s.toLowerCase()),
  })
  .strict();

/**
 * `auth.oidc` (contract v1.1): console sign-in through the organisation's
 * OpenID Connect provider (authorization code + PKCE, src/console/oidc.ts).
 */
const oidcSchema = z
  .object({
    issuer: httpUrl,
    clientId: z.string().min(1).max(500),
    /** The environment variable holding the client secret; absent: a public client (PKCE only). */
    clientSecretEnv: envName.optional(),
    /** The ID token claim holding the person id (as HR events name people). */
    personIdClaim: z.string().min(1).max(200).default('sub'),
    /** The claim holding the groups or roles (a string or an array of strings). */
    roleClaim: z.string().min(1).max(200).default('groups'),
    /** Claim value → lastday role; several matches: the highest role wins; none: 403. */
    roles: z.record(z.string().min(1), z.enum(['viewer', 'approver', 'admin'])),
    /** Scopes asked for (default `openid profile email`). */
    scopes: z.array(z.string().min(1)).optional(),
    /** The callback as the provider must call it; default: this server's own /console/oidc/callback. */
    redirectUri: httpUrl.optional(),
  })
  .strict();
export type OidcConfig = z.infer<typeof oidcSchema>;

export const configSchema = z
  .object({
    // Holiday calendars are checked and turned into dates here, once (holidays.ts).
    policy: policySchema
      .prefault({})
      .superRefine(checkCalendars)
      .transform((policy) => withCalendars(policy)),
    protectedTargets: z.array(z.string().min(1)).default([]),
    callbackAllowlist: z.array(z.string().min(1)).optional(),
    auth: z
      .object({ tokens: z.array(tokenSchema).default([]), oidc: oidcSchema.optional() })
      .strict()
      .prefault({}),
    connectors: z
      .array(connectorSchema)
      .min(1)
      .default([{ type: 'directory', name: 'directory' }])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((c, i) => {
          if (seen.has(c.name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate name "${c.name}"` });
          seen.add(c.name);
        });
      }),
    workers: z
      .object({
        /**
         * Milestone jobs processed at once per process (per partition). A job
         * is delivered the arm lead (1 s) before its instant and waits for it
         * holding a slot (src/domain/armLead.ts), and otherwise mostly waits on
         * Redis or a connector (each connector keeps its own limit): slots
         * bound how much of a burst due at one instant is armed in time. Too
         * many cost CPU (more live jobs, more GC; plain BullMQ too). Bench,
         * 1,000 revokes due each second for 20 s: p99 1,050 ms at 1,000,
         * 2,004 ms at 2,000; 400 each second (quick): 876 ms at 200, 270 ms
         * at 1,000 (docs/benchmarks.md).
         */
        milestoneConcurrency: z.number().int().min(1).max(10_000).default(1000),
        /** HR events processed at once per process. */
        eventConcurrency: z.number().int().min(1).max(1000).default(20),
        /**
         * No milestone job is added for a milestone due further ahead than this:
         * reconcile's horizon pass (every run, and at start) adds them as they
         * come within it. Keep it far above the reconcile period. Default 48;
         * LASTDAY_HORIZON_HOURS overrides it.
         */
        horizonHours: z
          .number()
          .min(1)
          .max(24 * 366)
          .default(48),
        /**
         * How long a worker's hold on a job (and on a person) lasts without renewal.
         * A worker that dies has its jobs picked up again after about this long;
         * the person lock lives twice as long. Default 30000 (BullMQ's default).
         */
        lockDurationMs: z.number().int().min(1000).max(600_000).default(30_000),
        /**
         * How long shutdown waits for active jobs and a graceful close before it
         * cuts every connection and exits 1 (also when Redis is gone). Default 15000.
         */
        shutdownTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
      })
      .strict()
      .prefault({}),
    /** Scheduled triggers (src/config/crons.ts). */
    crons: cronsSchema.prefault({}),
    /** Where alerts go besides the log, the metrics and the audit chain. */
    alerts: alertsSchema.prefault({}),
    /** How long finished actions and rejected events are kept (src/config/retention.ts). */
    retention: retentionSchema.prefault({}),
    /** Who is told of notices, holds and alerts, by email and Slack (src/config/notifications.ts). */
    notifications: notificationsSchema.prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    // Tokens are looked up by hash: two entries with one hash would leave the
    // last one silently standing for both (a viewer's token opening admin).
    const hashes = new Map<string, number>();
    cfg.auth.tokens.forEach((t, i) => {
      if (names.has(t.name))
        ctx.addIssue({ code: 'custom', path: ['auth', 'tokens', i, 'name'], message: 'duplicate' });
      names.add(t.name);
      const first = hashes.get(t.sha256);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['auth', 'tokens', i, 'sha256'],
          message: `the same token as auth.tokens.${first} ("${cfg.auth.tokens[first]!.name}"); every token must be different`,
        });
      } else hashes.set(t.sha256, i);
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ConnectorConfig = z.infer<typeof connectorSchema>;
export type TokenConfig = Config['auth']['tokens'][number];
