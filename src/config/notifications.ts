/**
 * The config's `notifications` section (contract v1.1 section 6): who is told
 * what, and how. Email goes over plain SMTP to any server; Slack-compatible
 * incoming webhooks get one message per notification, the URL read from the
 * environment variable named here (it is a secret: it is never logged).
 */
import { z } from 'zod';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name' });

const address = z.email().max(320);

export const notificationsSchema = z
  .object({
    email: z
      .object({
        /** `smtp://[user:pass@]host:port` or `smtps://…`; nodemailer's connection URL. */
        smtpUrl: z.url({ protocol: /^smtps?$/, message: 'expected an smtp:// or smtps:// URL' }),
        /** The From address of every mail. */
        from: z.string().min(3).max(320),
        /**
         * `smtp://` is plain SMTP (contract): STARTTLS is used when the server
         * offers it, opportunistically (any certificate, as between mail servers),
         * so a relay with a self-signed certificate still gets mail. `true`
         * requires STARTTLS with a verified certificate. `smtps://` is always
         * implicit TLS, verified. Default false.
         */
        requireTls: z.boolean().default(false),
        /** Bound on one SMTP delivery (connect, greeting, send). Default 10000. */
        timeoutMs: z.number().int().min(100).max(300_000).default(10_000),
      })
      .strict()
      .optional(),
    slack: z
      .object({
        /** The environment variable holding the incoming-webhook URL. */
        webhookUrlEnv: envName,
        timeoutMs: z.number().int().min(100).max(300_000).default(10_000),
      })
      .strict()
      .optional(),
    /** Told of every notice, failed, overdue or drifting milestone, and holds about to expire. */
    ops: z.array(address).default([]),
    /** Told of every new hold, with a link to it in the console. */
    approvers: z.array(address).default([]),
    /**
     * Where people reach lastday (scheme, host, port, no path): links in
     * notifications point at `<consoleUrl>/console/…`. Default `http://HOST:PORT`.
     */
    consoleUrl: z
      .url({ protocol: /^https?$/, message: 'expected an http(s) URL' })
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    /** `ops` hears of a hold this many hours before it expires undecided. Default 12. */
    holdExpiryWarningHours: z
      .number()
      .min(0)
      .max(24 * 365)
      .default(12),
    /** Delivery attempts per notification and channel (backoff 1 s doubling, capped at 5 min). Default 25. */
    attempts: z.number().int().min(1).max(100).default(25),
  })
  .strict();

export type NotificationsConfig = z.infer<typeof notificationsSchema>;
