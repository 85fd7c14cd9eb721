/**
 * HR event intake records: which event ids and webhook ids were already
 * accepted (so a repeat answers `duplicate`), and the rejected events, kept with
 * their reasons — bounded in bytes — so nothing bad is silently dropped.
 *
 * On a cluster each event id's key and each webhook id's key is in a slot of
 * its own (KeysOptions.ownSlots): one per event, they would otherwise pile up
 * on the global slot's master. The rejected stream is one key (bounded).
 */
import type { RedisClient } from './redisClient.ts';
import type { Issue } from '../domain/errors.ts';
import { digestInput, nestingDepth } from './inputDigest.ts';
import type { Keys } from './keys.ts';

export type IntakeSource = 'queue' | 'http' | 'cli' | 'roster';

/** A key to set to a value unless it exists (SET NX). */
export interface KeyMark {
  key: string;
  value: string;
}

/**
 * What is kept of a rejected event, and answered, is bounded whatever arrived
 * (a 1 MB body of 95,000 unknown keys, 20,000 nested arrays): the input's size
 * and SHA-256, its first bytes, and its first issues with their total count.
 */
export const REJECTED_BOUNDS = {
  /** UTF-8 bytes of the input kept as `excerpt` when it is not kept whole. */
  excerptBytes: 16_384,
  /** Issues kept (and answered); `issueCount` says how many there were. */
  issues: 20,
  /** Characters of one issue's path, and of its message. */
  issueChars: 300,
  /** An input is kept whole, as `event`, when its text fits `excerptBytes` and it nests no deeper. */
  wholeDepth: 64,
} as const;

export interface RejectedEvent {
  id: string;
  at: string;
  source: IntakeSource;
  /** The input's `eventId` when it had a usable one (a string of 1–200 characters). */
  eventId?: string;
  /** The first `REJECTED_BOUNDS.issues` issues. */
  issues: Issue[];
  issueCount: number;
  /** Size and SHA-256 of the input's UTF-8 text (the body as received over HTTP, else its JSON). */
  bytes: number;
  sha256: string;
  /** The input as received, when small and shallow (see REJECTED_BOUNDS)… */
  event?: unknown;
  /** …else the first `REJECTED_BOUNDS.excerptBytes` bytes of its text. */
  excerpt?: string;
  /** Whether `excerpt` stops before the end of the input. */
  truncated?: boolean;
}

export interface RejectInput {
  at: string;
  source: IntakeSource;
  /** Defaults to the input's own `eventId` field. */
  eventId?: string;
  issues: readonly Issue[];
  /** The input as parsed (or the text, when it was not JSON). */
  event: unknown;
  /** The exact text received, when there was one (an HTTP body): size, hash and excerpt are taken over it. */
  raw?: string;
}

/** Rejected events kept; the oldest go first past this (a stream, trimmed approximately). */
const REJECTED_MAX = 100_000;
/** A webhook id is remembered well past the 5-minute signature tolerance. */
const WEBHOOK_ID_TTL_S = 24 * 3600;

/** The first issues, each cut to a bounded length, and how many there were. */
export function boundIssues(issues: readonly Issue[]): { issues: Issue[]; issueCount: number } {
  const cut = (text: string) =>
    text.length > REJECTED_BOUNDS.issueChars ? `${text.slice(0, REJECTED_BOUNDS.issueChars)}…` : text;
  return {
    issues: issues
      .slice(0, REJECTED_BOUNDS.issues)
      .map((i) => ({ path: cut(i.path), message: cut(i.message) })),
    issueCount: issues.length,
  };
}

/** An input's own eventId, when it is one a person could look up (1–200 characters). */
export function eventIdOf(input: unknown): string | undefined {
  const id =
    input !== null && typeof input === 'object' ? (input as { eventId?: unknown }).eventId : undefined;
  return usableEventId(id);
}

function usableEventId(id: unknown): string | undefined {
  return typeof id === 'string' && id.length >= 1 && id.length <= 200 ? id : undefined;
}

/**
 * Whether an event key's value says the worker handled it (else: accepted by
 * intake, or unknown): an earlier version wrote `applied` or `stale` there.
 */
export function isHandledMark(value: string | null | undefined): boolean {
  return value === 'applied' || value === 'stale';
}

export class EventsStore {
  /**
   * @param legacy where an earlier build kept the event and webhook-id keys
   *   (in the global slot, on a cluster): still read, never written, so an
   *   event accepted under the old name stays a duplicate (src/app/context.ts).
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly legacy?: Pick<Keys, 'eventSeen' | 'webhookSeen'>,
  ) {}

  /** Marks an event id as accepted; false when it already was. */
  async markAccepted(eventId: string, at: string): Promise<boolean> {
    // One SET NX on one key, whatever the person: the check and the mark are
    // one atomic step. The old name is only read (after a first mark), and
    // two deliveries racing both see it.
    if ((await this.redis.set(this.keys.eventSeen(eventId), at, 'NX')) !== 'OK') return false;
    return !this.legacy || (await this.redis.exists(this.legacy.eventSeen(eventId))) === 0;
  }

  /**
   * The intake mark `markAccepted` sets (SET NX of this value), for a caller
   * that sends it in a round trip of its own (PeopleStore.getMarking): the
   * HR event worker, which has no use for the answer.
   */
  acceptedMark(eventId: string, at: string): KeyMark {
    return { key: this.keys.eventSeen(eventId), value: at };
  }

  /** Undoes `markAccepted` when the event could not be queued after all. */
  async unmarkAccepted(eventId: string): Promise<void> {
    await this.redis.del(this.keys.eventSeen(eventId));
  }

  async isAccepted(eventId: string): Promise<boolean> {
    if ((await this.redis.exists(this.keys.eventSeen(eventId))) === 1) return true;
    return !!this.legacy && (await this.redis.exists(this.legacy.eventSeen(eventId))) === 1;
  }

  /**
   * Whether the worker applied (or recorded as stale) this event before the
   * person record kept the events handled for it (PersonRecord.recentEvents):
   * that version's marks, read for such a person only, never written now.
   */
  async isApplied(eventId: string): Promise<boolean> {
    // Sent together, not as one MGET: with partitions the worker's mark is in
    // the person's partition (src/app/context.ts), intake's key in its own
    // slot; that version also marked a handled event on intake's key itself,
    // under the old name on a cluster (`legacy`).
    const [applied, seen, legacySeen] = await Promise.all([
      this.redis.exists(this.keys.eventApplied(eventId)),
      this.redis.get(this.keys.eventSeen(eventId)),
      this.legacy ? this.redis.get(this.legacy.eventSeen(eventId)) : null,
    ]);
    return applied === 1 || isHandledMark(seen) || isHandledMark(legacySeen);
  }

  /** Remembers a webhook id; false when it was seen already (a replay or a retry). */
  async markWebhookId(webhookId: string): Promise<boolean> {
    const first =
      (await this.redis.set(this.keys.webhookSeen(webhookId), '1', 'EX', WEBHOOK_ID_TTL_S, 'NX')) === 'OK';
    return first && (!this.legacy || (await this.redis.exists(this.legacy.webhookSeen(webhookId))) === 0);
  }

  async forgetWebhookId(webhookId: string): Promise<void> {
    await this.redis.del(this.keys.webhookSeen(webhookId));
  }

  /** Keeps a rejected input, bounded (REJECTED_BOUNDS); returns its id in the list. */
  async reject(input: RejectInput): Promise<string> {
    const digest = digestInput(input.event, input.raw, REJECTED_BOUNDS.excerptBytes);
    const whole =
      !digest.truncated &&
      nestingDepth(input.event, REJECTED_BOUNDS.wholeDepth) <= REJECTED_BOUNDS.wholeDepth;
    const eventId = input.eventId !== undefined ? usableEventId(input.eventId) : eventIdOf(input.event);
    const entry: Omit<RejectedEvent, 'id'> = {
      at: input.at,
      source: input.source,
      ...(eventId !== undefined ? { eventId } : {}),
      ...boundIssues(input.issues),
      bytes: digest.bytes,
      sha256: digest.sha256,
      ...(whole ? { event: input.event } : { excerpt: digest.head, truncated: digest.truncated }),
    };
    const id = await this.redis.xadd(
      this.keys.rejected,
      'MAXLEN',
      '~',
      REJECTED_MAX,
      '*',
      'entry',
      JSON.stringify(entry),
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
    return rows.map(([id, fields]) => {
      const entry = JSON.parse(fields[1] ?? '{}') as Omit<RejectedEvent, 'id'>;
      // Entries kept before the byte bounds carry no count of their own.
      return { id, ...entry, issueCount: entry.issueCount ?? entry.issues?.length ?? 0 };
    });
  }

  async rejectedCount(): Promise<number> {
    return this.redis.xlen(this.keys.rejected);
  }
}
