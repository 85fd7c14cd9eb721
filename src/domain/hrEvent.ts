/**
 * The HR event, as the contract's section 2 defines it. Strict: an unknown field
 * is an error, so a typo in an integration surfaces on the first event instead
 * of silently dropping a field.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { countryCode } from './country.ts';
import { isWellFormedId } from './ids.ts';
import { calendarDate, ianaZone, timeOfDay } from './wallClock.ts';

export const HR_EVENT_TYPES = ['contract.ending', 'contract.terminated', 'offboarding.cancelled'] as const;
export type HrEventType = (typeof HR_EVENT_TYPES)[number];

/** An external id: 1–200 characters, any characters, as long as it is well-formed text. */
const externalId = z
  .string()
  .min(1)
  .max(200)
  .refine(isWellFormedId, { message: 'expected well-formed Unicode text (no lone surrogates)' });

/** ISO-8601 instant with an explicit offset or `Z`. */
const instant = z.iso.datetime({ offset: true, message: 'expected an ISO-8601 instant with an offset' });

export const personSchema = z
  .object({
    id: externalId,
    email: z.email().max(320).optional(),
    name: z.string().min(1).max(500).optional(),
    employment: z.enum(['contractor', 'employee']),
    timezone: ianaZone,
    /** Organisational unit, compared exactly (case included) with a policy scope's `match.department`. */
    department: z
      .string()
      .min(1)
      .max(200)
      .refine(isWellFormedId, { message: 'expected well-formed Unicode text (no lone surrogates)' })
      .optional(),
    /** ISO 3166-1 alpha-2, upper case: where the person works, for a policy scope's `match.country`. */
    country: countryCode.optional(),
    /** Who is told of the notice (contract v1.1): mailed at the `notice` milestone when `email` is set. */
    manager: z
      .object({ id: externalId.optional(), email: z.email().max(320).optional() })
      .strict()
      .optional(),
  })
  .strict();

export const hrEventSchema = z
  .object({
    eventId: externalId,
    type: z.enum(HR_EVENT_TYPES),
    occurredAt: instant,
    person: personSchema,
    lastDay: calendarDate.optional(),
    endTime: timeOfDay.optional(),
    effectiveAt: instant.optional(),
    reason: z.string().max(2000).optional(),
  })
  .strict()
  .superRefine((event, ctx) => {
    if (event.type === 'contract.ending' && event.lastDay === undefined) {
      ctx.addIssue({ code: 'custom', path: ['lastDay'], message: 'required for contract.ending' });
    }
    if (event.effectiveAt !== undefined && event.type !== 'contract.terminated') {
      ctx.addIssue({
        code: 'custom',
        path: ['effectiveAt'],
        message: 'allowed only for contract.terminated',
      });
    }
  });

export type HrEvent = z.infer<typeof hrEventSchema>;
export type PersonInfo = z.infer<typeof personSchema>;

/** Milliseconds since the epoch of an event's `occurredAt`, for ordering. */
export function occurredAtMs(event: Pick<HrEvent, 'occurredAt'>): number {
  return DateTime.fromISO(event.occurredAt, { setZone: true }).toMillis();
}

/** The event schema as JSON Schema (draft 2020-12), for integrators. */
export function hrEventJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(hrEventSchema, { unrepresentable: 'any', io: 'input' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: 'https://github.com/lastday/lastday/schemas/hr-event.json',
    title: 'lastday HR event',
    description:
      'One offboarding event from the HR system. lastDay is required for contract.ending; effectiveAt is allowed only for contract.terminated.',
  };
}
