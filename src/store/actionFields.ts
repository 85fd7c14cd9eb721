/**
 * How an action is laid out in its Redis hash: one field per text property,
 * `payload` as JSON, absent properties absent (never empty strings).
 */
import type { ActionRecord } from '../domain/action.ts';
import type { ActionFields } from './actions.ts';

const TEXT_FIELDS = [
  'actionId',
  'initiatorId',
  'kind',
  'target',
  'executeAt',
  'callbackUrl',
  'state',
  'reason',
  'createdAt',
  'updatedAt',
  'heldAt',
  'approvedBy',
  'approvedAt',
  'cancelledBy',
  'cancelledAt',
  'executedAt',
  'allowedAt',
  'callStartedAt',
] as const;

export function toFields(record: ActionRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of TEXT_FIELDS) {
    const v = record[f];
    if (v !== undefined) out[f] = v;
  }
  if (record.payload !== undefined) out.payload = JSON.stringify(record.payload);
  return out;
}

export function fromFields(raw: Record<string, string>): ActionRecord {
  const out: Record<string, unknown> = {};
  for (const f of TEXT_FIELDS) if (raw[f] !== undefined && raw[f] !== '') out[f] = raw[f];
  if (raw.payload !== undefined) out.payload = JSON.parse(raw.payload);
  return out as unknown as ActionRecord;
}

/** The fields to write; a `null` stays, and the script removes that field (hset_json). */
export function dropUndefined(fields: ActionFields): Record<string, string | null> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | null
  >;
}
