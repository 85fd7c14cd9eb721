/**
 * One voice per process for "Redis is gone". A lastday holds about ten Redis
 * connections (the shared producer, one per worker plus BullMQ's blocking
 * duplicate of each) and every BullMQ queue and worker re-emits its
 * connection's errors; logged one by one, a Redis outage wrote a line per
 * retry per connection (15,000 `ECONNREFUSED` lines in an hour). Here every
 * connection failure is funnelled into one state: one line when Redis is lost,
 * reminders with a doubling interval (30 s, 1 min, 2 min, … capped at 5 min)
 * that say how many failures were folded into them, and one line when a
 * connection is ready again.
 *
 * Reminders are written when a failure arrives past the reminder time, not by
 * a timer: ioredis retries at least every few seconds while Redis is away, so
 * a reminder is never much late, and nothing here keeps a process alive.
 */
import type { Logger } from 'pino';

/** Error codes and messages that mean "no Redis to talk to", not a failed command. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);
const CONNECTION_MESSAGES = [
  'Connection is closed',
  'connect ECONNREFUSED',
  'connect ETIMEDOUT',
  'Reached the max retries per request limit',
  "Stream isn't writeable",
  'Socket closed unexpectedly',
];

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return CONNECTION_MESSAGES.some((m) => err.message.includes(m));
}

export interface RedisLossLogOptions {
  /** Milliseconds clock; tests drive it. Default `Date.now`. */
  now?: () => number;
  /** First reminder this long after the loss; doubles up to `maxReminderMs`. Default 30 s. */
  firstReminderMs?: number;
  /** Cap of the reminder interval. Default 5 minutes. */
  maxReminderMs?: number;
}

export class RedisLossLog {
  private readonly now: () => number;
  private readonly firstReminderMs: number;
  private readonly maxReminderMs: number;
  private lostAt: number | undefined;
  private reminderEvery = 0;
  private nextReminderAt = 0;
  /** Failures since the last line written. */
  private folded = 0;
  private lastError = '';
  private quiet = false;

  constructor(
    private readonly log: Logger,
    options: RedisLossLogOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.firstReminderMs = options.firstReminderMs ?? 30_000;
    this.maxReminderMs = options.maxReminderMs ?? 300_000;
  }

  /** Whether Redis is currently considered lost. */
  get lost(): boolean {
    return this.lostAt !== undefined;
  }

  /** A connection (named by `source`) failed to reach Redis. */
  failed(source: string, err: Error): void {
    const now = this.now();
    this.lastError = err.message;
    if (this.lostAt === undefined) {
      this.lostAt = now;
      this.reminderEvery = this.firstReminderMs;
      this.nextReminderAt = now + this.reminderEvery;
      this.folded = 0;
      if (!this.quiet)
        this.log.error(
          { err: err.message, source },
          'redis connection lost; retrying (further failures are summarised)',
        );
      return;
    }
    this.folded++;
    if (now < this.nextReminderAt) return;
    if (!this.quiet)
      this.log.error(
        { err: this.lastError, downForS: Math.round((now - this.lostAt) / 1000), failures: this.folded },
        'redis still unreachable',
      );
    this.folded = 0;
    this.reminderEvery = Math.min(this.reminderEvery * 2, this.maxReminderMs);
    this.nextReminderAt = now + this.reminderEvery;
  }

  /** A connection (named by `source`) is ready: one line if Redis had been lost. */
  ready(source: string): void {
    if (this.lostAt === undefined) return;
    const downForS = Math.round((this.now() - this.lostAt) / 1000);
    this.lostAt = undefined;
    if (!this.quiet) this.log.warn({ source, downForS, failures: this.folded }, 'redis connection back');
    this.folded = 0;
  }

  /** Routes `err`: connection trouble is folded in here; anything else goes to `other`. */
  route(source: string, other: (err: Error) => void): (err: Error) => void {
    return (err) => (isConnectionError(err) ? this.failed(source, err) : other(err));
  }

  /**
   * Stops writing (shutdown: the connections are being cut on purpose, and
   * their last failures are not news).
   */
  silence(): void {
    this.quiet = true;
  }
}
