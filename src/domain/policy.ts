/**
 * The offboarding policy: when each milestone happens, which days count as
 * business days, how long holds live, and the scopes that change the timeline
 * for groups of people (contract section 6, `policy.scopes`). Parsed from the
 * config file's `policy` section; every field has the contract's default.
 *
 * Which scope applies to a person, and the policy that results, is worked out
 * in policyScope.ts. Country holiday calendars (`holidayCalendar`) are named
 * here and checked and loaded by the config layer (src/config/holidays.ts),
 * which hands their dates in as `calendars`: the domain never calls the
 * holiday library.
 */
import { z } from 'zod';
import { countryCode } from './country.ts';
import { calendarDate, timeOfDay } from './wallClock.ts';

const businessDays = z.number().int().min(0).max(60);
const weekend = z.array(z.number().int().min(1).max(7)).max(6);
const verifyAfterMinutes = z
  .number()
  .min(0)
  .max(7 * 24 * 60);

/** Holiday types of a country calendar (the holiday library's own). */
export const HOLIDAY_TYPES = ['public', 'bank', 'school', 'optional', 'observance'] as const;
export type HolidayType = (typeof HOLIDAY_TYPES)[number];

/**
 * A country calendar: `DE`, `DE-BY`, `DE-BY-A` — an ISO 3166-1 alpha-2 country,
 * then optionally a state and a region as the holiday library names them.
 * Whether the library knows it is checked when the config is loaded.
 */
export const holidayCalendarCode = z.string().regex(/^[A-Z]{2}(-[A-Za-z0-9]{1,30}){0,2}$/, {
  message: 'expected a holiday calendar such as DE, DE-BY or US-CA (country, then optional state and region)',
});

const holidayTypes = z.array(z.enum(HOLIDAY_TYPES)).min(1);

/** Scope names are shown in the API and the audit; `default` names the base policy. */
const scopeName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, { message: 'expected letters, digits, _ . - only' })
  .refine((n) => n !== 'default', { message: '"default" names the base policy; choose another name' });

/** What a scope is for: each given field must equal the person's (all of them, exactly). */
const scopeMatch = z
  .object({
    country: countryCode.optional(),
    /** Compared exactly, case included, with `person.department`. */
    department: z.string().min(1).max(200).optional(),
    employment: z.enum(['contractor', 'employee']).optional(),
  })
  .strict()
  .refine((m) => m.country !== undefined || m.department !== undefined || m.employment !== undefined, {
    message: 'expected at least one of country, department, employment',
  });

/**
 * A scope: the fields that shape a person's timeline, each optional. Fields the
 * scope sets replace the base policy's (`weekend`, `holidays` and
 * `holidayTypes` whole, as lists); in `notice` and `reduce` each field given
 * replaces that field only. `holidayCalendar: null` turns a base calendar off.
 * Fields about actions (`holdExpiryHours`, `cancelOnFreeze`,
 * `failAfterMinutes`) are not per person and stay in the base policy.
 */
export const scopeSchema = z
  .object({
    name: scopeName,
    match: scopeMatch,
    defaultEndTime: timeOfDay.optional(),
    weekend: weekend.optional(),
    holidays: z.array(calendarDate).optional(),
    holidayCalendar: holidayCalendarCode.nullable().optional(),
    holidayTypes: holidayTypes.optional(),
    notice: z.object({ businessDays: businessDays.optional(), at: timeOfDay.optional() }).strict().optional(),
    reduce: z
      .object({
        contractorBusinessDays: businessDays.optional(),
        employeeBusinessDays: businessDays.optional(),
        at: timeOfDay.optional(),
      })
      .strict()
      .optional(),
    verifyAfterMinutes: verifyAfterMinutes.optional(),
  })
  .strict();

export type Scope = z.infer<typeof scopeSchema>;

/**
 * Holiday dates of one country calendar, loaded by the config layer for a
 * range of years. A holiday lasting several days gives one entry per day.
 */
export interface LoadedCalendar {
  /** Where the dates come from (`date-holidays@3.37.0`): new data is a new policy. */
  source: string;
  /** Years covered, inclusive. */
  fromYear: number;
  toYear: number;
  days: readonly { date: string; type: HolidayType }[];
}

/** Loaded calendars by code (`DE-BY`). */
export type CalendarTable = Readonly<Record<string, LoadedCalendar>>;

export const policySchema = z
  .object({
    /** Local end of the last day when an event gives no `endTime`. Default `17:00`. */
    defaultEndTime: timeOfDay.default('17:00'),
    /** ISO weekday numbers (1 = Monday … 7 = Sunday) that are not business days. Default Saturday, Sunday. */
    weekend: weekend.default([6, 7]),
    /** Dates (`YYYY-MM-DD`) that are not business days, in every zone. */
    holidays: z.array(calendarDate).default([]),
    /** A country calendar whose holidays are not business days either (beside `holidays`). */
    holidayCalendar: holidayCalendarCode.optional(),
    /** Which of the calendar's holiday types count. Default public holidays only. */
    holidayTypes: holidayTypes.default(['public']),
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
    verifyAfterMinutes: verifyAfterMinutes.default(60),
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
    /**
     * Days after `revoke` within which a reinstatement may be requested and
     * approved (contract v1.1 section 3); the snapshots of removed grants are
     * kept that long. Fractions allowed (tests). Default 30.
     */
    reinstateWithinDays: z.number().positive().max(3650).default(30),
    /** Groups of people with their own timeline; the first whose `match` fits applies. */
    scopes: z.array(scopeSchema).max(200).default([]),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const seen = new Map<string, number>();
    policy.scopes.forEach((scope, i) => {
      const first = seen.get(scope.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['scopes', i, 'name'],
          message: `duplicate scope name "${scope.name}" (also policy.scopes.${first})`,
        });
      } else seen.set(scope.name, i);
    });
  })
  // Filled in by the config layer when a calendar is named (src/config/holidays.ts).
  .transform((policy) => ({ ...policy, calendars: {} as CalendarTable }));

export type Policy = z.infer<typeof policySchema>;

export const defaultPolicy: Policy = policySchema.parse({});
