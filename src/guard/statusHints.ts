/**
 * The guard status this process saw lately per initiator: what a registration
 * expects (src/guard/registration.ts), so it decides and records in one round
 * trip. Only a hint: the registration script checks the real status and
 * answers with it when the hint is wrong, so a stale hint costs one more round
 * trip, never a wrong decision.
 *
 * Why a cold initiator is read first rather than guessed: a registration whose
 * expectation is wrong appends no audit entry, and every later write the audit
 * appender sent in the same batch is refused and re-sent (store/auditChain.ts);
 * a burst of wrong guesses would cost a round per write. So hints are kept
 * only briefly (`ttlMs`: a status changes at milestones and HR events), and
 * concurrent first registrations of one initiator share one read.
 */
import type { GuardStatus } from '../domain/action.ts';

interface Hint {
  status: GuardStatus;
  atMs: number;
}

export class StatusHints {
  private readonly seen = new Map<string, Hint>();
  private readonly reading = new Map<string, Promise<GuardStatus>>();

  constructor(
    private readonly nowMs: () => number,
    private readonly ttlMs = 5_000,
    private readonly max = 10_000,
  ) {}

  /** The status last seen for `personId` within `ttlMs`, else what `read` answers (one read at a time per person). */
  async expect(personId: string, read: () => Promise<GuardStatus>): Promise<GuardStatus> {
    const hint = this.seen.get(personId);
    if (hint && this.nowMs() - hint.atMs < this.ttlMs) return hint.status;
    let pending = this.reading.get(personId);
    if (!pending) {
      pending = read().then(
        (status) => {
          this.reading.delete(personId);
          this.set(personId, status);
          return status;
        },
        (err: unknown) => {
          this.reading.delete(personId);
          throw err;
        },
      );
      this.reading.set(personId, pending);
    }
    return pending;
  }

  /** Records the status just seen (by a registration's or the gate's script). */
  set(personId: string, status: GuardStatus): void {
    // Re-inserted so the Map's order stays oldest-seen first.
    this.seen.delete(personId);
    this.seen.set(personId, { status, atMs: this.nowMs() });
    if (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
