/** Environment variables (contract section 1), validated like the config file. */
import { z } from 'zod';

const whsec = z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, {
  message: 'expected a Standard Webhooks secret: whsec_ followed by base64',
});

export const envSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, { message: 'expected redis://host:port/db or rediss://…' })
    .optional(),
  /**
   * Redis Cluster seeds, `host:port,host:port` (with REDIS_URL unset). lastday
   * then hash-tags its prefix (`{lastday}`) so every key it writes is in one slot.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*,?\s*$/, {
      message: 'expected comma-separated host:port seeds, e.g. 10.0.0.1:7000,10.0.0.2:7000',
    })
    .optional(),
  /**
   * How long an acknowledged write (accepted HR event, registered or approved
   * action) waits for one replica to confirm it (`WAIT 1 <ms>`); 0 turns it off.
   * Skipped on a Redis without replicas.
   */
  LASTDAY_REPLICA_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /**
   * How many partitions people are spread over (docs/cluster.md "Partitions").
   * Unset: the stored count, or at the first start 1 on a single Redis and 16
   * on a cluster. Set and different from the stored count: start-up refuses.
   */
  /** Overrides `workers.horizonHours` (milestone jobs are added this many hours ahead at most). */
  LASTDAY_HORIZON_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 366)
    .optional(),
  LASTDAY_PARTITIONS: z.coerce.number().int().min(1).max(1024).optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LASTDAY_CONFIG: z.string().min(1).optional(),
  LASTDAY_PREFIX: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^\s]+$/, { message: 'expected no whitespace' })
    .default('lastday'),
  LASTDAY_HR_WEBHOOK_SECRET: whsec.optional(),
  LASTDAY_ACTION_SECRET: whsec.optional(),
  /**
   * Makes the audit chain's hashes HMAC-SHA-256 under this secret (its UTF-8
   * bytes), so someone who can write Redis but lacks it cannot rewrite history
   * unnoticed. Never logged.
   */
  LASTDAY_AUDIT_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where the embedded Redis keeps its data when REDIS_URL is unset. */
  LASTDAY_DATA_DIR: z.string().min(1).default('.lastday'),
});

export type Env = z.infer<typeof envSchema>;
