/**
 * The `retention` section of the config file: how long lastday keeps records
 * that are finished with. The `retention` cron (crons.retention) deletes what
 * is older; the audit chain is never pruned (export it with `lastday audit export`).
 */
import { z } from 'zod';

const days = z
  .number()
  .int()
  .min(1)
  .max(100 * 365);

export const retentionSchema = z
  .object({
    /** Days an executed or cancelled action is kept after it became so. Default 90. */
    actionsDays: days.default(90),
    /** Days a rejected HR event is kept after it was rejected. Default 90. */
    rejectedDays: days.default(90),
    /** Records deleted per Redis call. Default 500. */
    batchSize: z.number().int().min(1).max(10_000).default(500),
  })
  .strict();

export type RetentionConfig = z.infer<typeof retentionSchema>;
