/**
 * The offboarding policy: when each milestone happens, which days count as
 * business days, how long holds live. Parsed from the config file's `policy`
 * section; every field has the contract's default.
 */
import { z } from 'zod';
import { calendarDate, timeOfDay } from './wallClock.ts';

const businessDays = z.number().int().min(0).max(60);

export const policySchema = z
  .object({
    /** Local end of the last day when an event gives no `endTime`. Default `17:00`. */
    defaultEndTime: timeOfDay.default('17:00'),
    /** ISO weekday numbers (1 = Monday … 7 = Sunday) that are not business days. Default Saturday, Sunday. */
    weekend: z.array(z.number().int().min(1).max(7)).max(6).default([6, 7]),
    /** Dates (`YYYY-MM-DD`) that are not business days, in every zone. */
    holidays: z.array(calendarDate).default([]),
    notice: z
      .object({ businessDays: businessDays.default(5), at: timeOfDay.default('09:00') })
      .strict()
      .prefault({}),
    reduce: z
      .object({
        contractorBusinessDays: businessDays.default(2),
        employeeBusinessDays: businessDays.default(1),
        at: timeOfDay.default('09:00'),
      })
      .strict()
      .prefault({}),
    /** Minutes between `revoke` and the read-back `verify`. Default 60. */
    verifyAfterMinutes: z
      .number()
      .min(0)
      .max(7 * 24 * 60)
      .default(60),
    /** A hold not decided within this many hours is cancelled. Default 72. */
    holdExpiryHours: z
      .number()
      .positive()
      .max(24 * 365)
      .default(72),
    /** Action kinds (globs) that `freeze` cancels instead of holding. */
    cancelOnFreeze: z.array(z.string().min(1)).default([]),
    /**
     * Minutes after its instant at which a milestone that still fails is marked
     * `failed` and alerted on (it keeps retrying). Default 15.
     */
    failAfterMinutes: z
      .number()
      .min(0)
      .max(7 * 24 * 60)
      .default(15),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;

export const defaultPolicy: Policy = policySchema.parse({});
