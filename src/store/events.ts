/**
 * HR event intake records: which event ids and webhook ids were already
 * accepted (so a repeat answers `duplicate`), and the rejected events, kept with
 * their reasons so nothing bad is silently dropped.
 */
import type { Redis } from 'ioredis';
import type { Issue } from '../domain/errors.ts';
import type { Keys } from './keys.ts';

export type IntakeSource = 'queue' | 'http' | 'cli' | 'roster';

export interface RejectedEvent {
  id: string;
  at: string;
  source: IntakeSource;
  eventId?: string;
  issues: Issue[];
  /** The input as received, truncated when huge. */
  event: unknown;
}

/** Rejected events kept; the oldest go first past this (a stream, trimmed approximately). */
const REJECTED_MAX = 100_000;
/** Large inputs are kept as a truncated string rather than refused storage. */
const RAW_MAX_CHARS = 16_384;
/** A webhook id is remembered well past the 5-minute signature tolerance. */
const WEBHOOK_ID_TTL_S = 24 * 3600;

export class EventsStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Marks an event id as accepted; false when it already was. */
  async markAccepted(eventId: string, at: string): Promise<boolean> {
    return (await this.redis.set(this.keys.eventSeen(eventId), at, 'NX')) === 'OK';
  }

  /** Undoes `markAccepted` when the event could not be queued after all. */
  async unmarkAccepted(eventId: string): Promise<void> {
    await this.redis.del(this.keys.eventSeen(eventId));
  }

  async isAccepted(eventId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.eventSeen(eventId))) === 1;
  }

  /** Remembers a webhook id; false when it was seen already (a replay or a retry). */
  async markWebhookId(webhookId: string): Promise<boolean> {
    return (
      (await this.redis.set(this.keys.webhookSeen(webhookId), '1', 'EX', WEBHOOK_ID_TTL_S, 'NX')) === 'OK'
    );
  }

  async forgetWebhookId(webhookId: string): Promise<void> {
    await this.redis.del(this.keys.webhookSeen(webhookId));
  }

  async reject(entry: Omit<RejectedEvent, 'id'>): Promise<string> {
    let raw = entry.event;
    const text = safeStringify(raw);
    if (text.length > RAW_MAX_CHARS) raw = { truncated: true, head: text.slice(0, RAW_MAX_CHARS) };
    const id = await this.redis.xadd(
      this.keys.rejected,
      'MAXLEN',
      '~',
      REJECTED_MAX,
      '*',
      'entry',
      JSON.stringify({ ...entry, event: raw }),
    );
    return id ?? '';
  }

  /** Newest first. */
  async listRejected(limit = 100): Promise<RejectedEvent[]> {
    const rows = await this.redis.xrevrange(
      this.keys.rejected,
      '+',
      '-',
      'COUNT',
      Math.min(Math.max(limit, 1), 5000),
    );
    return rows.map(([id, fields]) => ({
      id,
      ...(JSON.parse(fields[1] ?? '{}') as Omit<RejectedEvent, 'id'>),
    }));
  }

  async rejectedCount(): Promise<number> {
    return this.redis.xlen(this.keys.rejected);
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
