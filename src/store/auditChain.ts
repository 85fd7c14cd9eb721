/**
 * The audit appender: one per chain in a process, chaining every entry this
 * process writes, in order, with the hash computed here (auditHash.ts) rather
 * than in Redis.
 *
 * Each write is a chained script (lua/chain.ts) carrying the seq, prevHash and
 * hash planned from the head as this appender believes it to be. The writes
 * queued in one tick go out in batches, and those that arrive while the
 * batches in flight are at their limit wait for the next, in arrival order
 * except that a `first` write (a revoke's disable) goes ahead of the others
 * still waiting; a batch is sent
 * as consecutive EVALSHAs on one connection,
 * one pipeline on a single Redis (so Redis runs them in that order), each
 * planned on the one before it. A script refuses, having written nothing,
 * when the stored head is not its planned predecessor: another process
 * appended, or an earlier script of the batch did not append (its own
 * precondition failed, e.g. a person's revision). The refusal names the head
 * it found; the appender re-plans the refused writes on it and sends them
 * again, first. Correctness never rests on the appender's belief: every
 * script checks the stored head itself, so two processes (or two appenders)
 * on one chain interleave safely, and a wrong guess costs one more trip.
 *
 * Pipelined batches: a batch is planned on the head the batches still in
 * flight are planned to leave, and sent without waiting for their answers
 * (up to MAX_IN_FLIGHT of them, MAX_BATCH writes each). One batch at a time
 * made the writers a convoy: the HR events a worker runs at once saved
 * together, were answered together and went on together, so Node and Redis
 * took turns, each idle while the other worked on the whole group. Smaller
 * batches with a second one in flight split the group, and Redis runs one
 * while Node handles the other's answers. When a write does not land as
 * planned, the batches behind it are refused by their scripts (their
 * planned predecessor is not the stored head), re-planned and sent again,
 * as any refused write is: a wrong plan costs a trip, never an entry.
 *
 * Lost answers: when a connection drops, ioredis sends again what was
 * unanswered, scripts that ran included. Such a script finds its own entry at
 * its planned seq and answers LASTDAY_CHAIN_LANDED (one that meets a Redis
 * that lost its script cache cannot run: the log is read for it here): it is
 * not re-chained, which would append it a second time, and its caller gets
 * `reply_lost`, since the body's answer is gone.
 *
 * Fairness: under sustained writes from several processes, one appender can
 * lose every race (its re-chained write always arrives just after another
 * process's next batch). After STARVE_AFTER refusals of one write it takes the
 * chain's turn, a lease of TURN_MS others' scripts respect (they answer
 * LASTDAY_CHAIN_BUSY and wait a few ms), and gives it back once its starved
 * writes are through.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redisClient.ts';
import {
  type ChainHasher,
  contentHash,
  type EntryContent,
  fieldMap,
  GENESIS,
  storedHash,
} from './auditHash.ts';
import { storedAt, storedDetails } from './auditStored.ts';
import { CHAIN_BUSY, CHAIN_LANDED, CHAIN_MOVED, releaseTurnScript } from './lua/chain.ts';
import { isNoScript, type Script, sendInOrder } from './lua/script.ts';

/** The keys of one chain: a later version keeps one chain per partition. */
export interface ChainKeys {
  /** String: the seq of the newest entry (absent = 0). */
  seq: string;
  /** String: the hash of the newest entry (absent = GENESIS). */
  head: string;
  /** Stream: the entries, id `<seq>-0`. */
  log: string;
  /** String with TTL: the id of the appender whose turn it is (absent: anyone's). */
  turn: string;
}

/** The newest entry of a chain, as stored. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** One state change and its audit entry, written atomically by a chained script. */
export interface ChainedWrite {
  script: Script;
  /** The script's own KEYS and ARGV; the chain's are appended after them. */
  keys: readonly string[];
  args: readonly (string | number)[];
  entry: EntryContent;
  /** Where the entry's seq is indexed: [the people hash, the action's list] (the log key for no action). */
  indexKeys: readonly [string, string];
  /**
   * Sent ahead of the queued writes that are not `first` (after those that
   * are): a revoke's disable does not wait behind other people's saves. Order
   * only among people's independent writes; one caller's writes are sequential.
   */
  first?: boolean;
}

export type AuditChainErrorReason = 'contention' | 'head_corrupt' | 'stream_ahead' | 'reply_lost';

/**
 * The chain cannot take an entry: the write was not applied. Except
 * `reply_lost`: the write was applied, with its entry at the seq the message
 * names, and Redis's answer was lost with the connection (a script sent again
 * after it ran; see "Lost answers" above).
 */
export class AuditChainError extends Error {
  override readonly name = 'AuditChainError';
  constructor(
    readonly reason: AuditChainErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** Where a write is planned in the chain. */
interface Plan {
  seq: number;
  prevHash: string;
  hash: string;
}

interface Pending {
  write: ChainedWrite;
  contentHash: string;
  /** The entry's `at` and `details` as the stream stores them (auditStored.ts), packed once. */
  stored: { at: string; details: string };
  /** Times it was refused because the head had moved. */
  attempts: number;
  /** When it was queued (ms), for the time budget. */
  since: number;
  resolve(reply: unknown): void;
  reject(err: unknown): void;
}

export interface AuditChainOptions {
  /** Most writes sent in one batch (default MAX_BATCH). */
  maxBatch?: number;
  /** Most batches sent and not yet answered (default MAX_IN_FLIGHT). */
  maxInFlight?: number;
  /** How long a write may keep losing before it fails with `contention` (ms, default 30,000). */
  maxWaitMs?: number;
}

/**
 * Batches of at most 10 writes, two in flight: see "Pipelined batches" above.
 * Measured with the ingest bench (20 HR events at once, 3 runs each,
 * alternating): 3,860–4,260 events/s against 3,190–3,610 with one batch of up
 * to 100 in flight.
 */
const MAX_BATCH = 10;
const MAX_IN_FLIGHT = 2;

/** Refusals of one write (head moved) before its appender takes the turn. */
const STARVE_AFTER = 3;
/** The turn's lease: bounds how long a crashed holder blocks the others. */
const TURN_MS = 250;

export class AuditChain {
  /** What this appender believes the stored head is; undefined = read it first. */
  private head: ChainHead | undefined;
  private highest = 0;
  private readonly queue: Pending[] = [];
  /** Batches sent and not yet answered. */
  private inFlight = 0;
  /**
   * The head after the last write planned, while every batch in flight is
   * expected to land as planned: the next batch is planned on it.
   */
  private planned: ChainHead | undefined;
  /** A flush is scheduled for the end of the current tick (see pump). */
  private pumpScheduled = false;
  /** Whether this appender believes it holds the chain's turn. */
  private holdsTurn = false;
  private readonly id = randomBytes(8).toString('hex');
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly redis: RedisClient,
    readonly keys: ChainKeys,
    readonly hasher: ChainHasher,
    options: AuditChainOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? MAX_BATCH;
    this.maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
  }

  /**
   * Runs the write's script with its entry chained on, resolving with the
   * script body's reply (whether or not its precondition let it append).
   */
  write(write: ChainedWrite): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const queued = {
        write,
        contentHash: contentHash(write.entry),
        stored: { at: storedAt(write.entry.at), details: storedDetails(write.entry.details) },
        attempts: 0,
        since: Date.now(),
      };
      const pending = { ...queued, resolve, reject };
      const behind = write.first ? this.queue.findIndex((p) => !p.write.first) : -1;
      if (behind < 0) this.queue.push(pending);
      else this.queue.splice(behind, 0, pending);
      this.pump();
    });
  }

  /**
   * Reads the stored head and the highest seq this appender had written or
   * seen before: a head below it was rolled back. Reported once per rollback
   * (the next check compares with this head).
   */
  async checkHead(): Promise<{ head: ChainHead; highestSeen: number }> {
    const highestSeen = this.highest;
    const head = await this.readHead();
    if (head.seq < highestSeen) this.highest = head.seq;
    return { head, highestSeen };
  }

  /** Reads the stored head (one round trip). */
  async readHead(): Promise<ChainHead> {
    const [seq, hash] = await this.redis.mget(this.keys.seq, this.keys.head);
    const head = parseHead(seq ?? '0', hash ?? GENESIS);
    if (!head) {
      throw new AuditChainError(
        'head_corrupt',
        `audit head is not a seq and a hash: ${String(seq).slice(0, 40)}`,
      );
    }
    this.highest = Math.max(this.highest, head.seq);
    return head;
  }

  /**
   * Sends what is queued once the current tick's code has run
   * (process.nextTick), not at the first write: the writes of one tick go
   * out together (in batches of MAX_BATCH, up to MAX_IN_FLIGHT of them at
   * once). Concurrent callers woken by the same replies (the HR events a
   * burst's jobs apply together) queue their writes in one tick; sent at the
   * first of them, that one went alone and the others waited for its round
   * trip (ingest bench: batches of 1 and of 19, alternating).
   */
  private pump(): void {
    if (this.inFlight >= this.maxInFlight || this.pumpScheduled || this.queue.length === 0) return;
    this.pumpScheduled = true;
    process.nextTick(() => {
      this.pumpScheduled = false;
      while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
        this.inFlight++;
        const batch = this.queue.splice(0, this.maxBatch);
        void this.flush(batch).finally(() => this.pump());
      }
    });
  }

  /**
   * Sends one batch (sendBatch), then gives the turn back once the last batch
   * in flight is answered and no starved write waits. Never throws.
   */
  private async flush(batch: Pending[]): Promise<void> {
    let busy = false;
    try {
      busy = await this.sendBatch(batch);
    } finally {
      // Counted down here, not by the caller: batches answered in one read of
      // the socket all reach this point before any caller's code runs.
      this.inFlight--;
    }
    if (this.holdsTurn && this.inFlight === 0 && !this.queue.some((p) => p.attempts >= STARVE_AFTER)) {
      this.holdsTurn = false;
      await releaseTurnScript.run(this.redis, [this.keys.turn], [this.id]).catch(() => undefined);
    }
    if (busy) await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
  }

  /**
   * Which of `plans` (by index) are in the log as planned: their scripts ran
   * on an earlier send. One read of the log over their seqs.
   */
  private async landed(plans: readonly Plan[]): Promise<Set<number>> {
    const seqs = plans.map((p) => p.seq);
    const rows = await this.redis.xrange(this.keys.log, `${Math.min(...seqs)}-0`, `${Math.max(...seqs)}-0`);
    const hashAt = new Map(rows.map(([id, fields]) => [id, fieldMap(fields).hash]));
    return new Set(plans.flatMap((p, i) => (hashAt.get(`${p.seq}-0`) === p.hash ? [i] : [])));
  }

  /**
   * Sends one batch and settles or re-queues each write in it; whether a
   * script found another appender's turn. Never throws.
   */
  private async sendBatch(batch: Pending[]): Promise<boolean> {
    let start: ChainHead;
    try {
      start = this.planned ?? this.head ?? (await this.readHead());
      if (!this.holdsTurn && batch.some((p) => p.attempts >= STARVE_AFTER)) {
        // Set on success only: a batch in flight beside this one may have
        // taken the turn meanwhile (this SET then finds it taken).
        if ((await this.redis.set(this.keys.turn, this.id, 'PX', TURN_MS, 'NX')) === 'OK')
          this.holdsTurn = true;
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
      return false;
    }
    // Plan every write on the one before it, then send them all in order.
    let planHead = start;
    const plans = batch.map((p): Plan => {
      const seq = planHead.seq + 1;
      const plan = {
        seq,
        prevHash: planHead.hash,
        hash: this.hasher.link(planHead.hash, seq, p.contentHash),
      };
      planHead = { seq, hash: plan.hash };
      return plan;
    });
    this.planned = planHead;
    const replies = await sendInOrder(
      this.redis,
      batch.map((p, i) => {
        const { script, keys, args, entry, indexKeys } = p.write;
        const plan = plans[i]!;
        return {
          script,
          keys: [...keys, this.keys.seq, this.keys.head, this.keys.log, this.keys.turn, ...indexKeys],
          args: [
            ...args,
            plan.seq,
            plan.prevHash,
            plan.hash,
            p.stored.at,
            entry.type,
            entry.actor,
            entry.personId,
            entry.actionId,
            p.stored.details,
            this.id,
            storedHash(plan.hash),
          ],
        };
      }),
    );

    // Walk the replies in the order Redis ran them, tracking the stored head.
    let head: ChainHead | undefined = start;
    const again: Pending[] = [];
    const reload = new Set<Script>();
    const unloaded: { p: Pending; plan: Plan }[] = [];
    let busy = false;
    for (const [i, r] of replies.entries()) {
      const p = batch[i]!;
      const plan = plans[i]!;
      if (r.status === 'fulfilled') {
        const [appended, reply] = r.value as [number, unknown];
        head =
          appended === 1 ? { seq: plan.seq, hash: plan.hash } : { seq: plan.seq - 1, hash: plan.prevHash };
        p.resolve(reply);
        continue;
      }
      const moved = movedHead(r.reason);
      if (moved === null) {
        head = undefined;
        p.reject(
          new AuditChainError('head_corrupt', `audit head is corrupt: ${(r.reason as Error).message}`),
        );
      } else if (moved !== undefined) {
        head = moved;
        p.attempts++;
        again.push(p);
      } else if (isReply(r.reason, CHAIN_BUSY)) {
        // Another appender's turn: nothing ran; wait a little and send again.
        busy = true;
        this.holdsTurn = false;
        again.push(p);
      } else if (isReply(r.reason, CHAIN_LANDED)) {
        head = undefined;
        p.reject(replyLost(plan.seq));
      } else if (isNoScript(r.reason)) {
        // Redis lost its script cache: nothing ran now; load and send again,
        // unless an earlier send ran (see landed).
        reload.add(p.write.script);
        unloaded.push({ p, plan });
      } else {
        head = undefined;
        p.reject(explain(r.reason, plan.seq));
      }
    }
    if (unloaded.length > 0) {
      const ran = await this.landed(unloaded.map((u) => u.plan)).catch((err: unknown) => err);
      for (const [i, { p, plan }] of unloaded.entries()) {
        if (ran instanceof Set) {
          if (ran.has(i)) p.reject(replyLost(plan.seq));
          else again.push(p);
        } else p.reject(ran);
      }
      head = undefined;
    }
    this.head = head;
    // Not every write landed as planned: what is planned next starts again from the stored head.
    if (!head || head.seq !== planHead.seq || head.hash !== planHead.hash) this.planned = undefined;
    if (head) this.highest = Math.max(this.highest, head.seq);

    const now = Date.now();
    const retry = again.filter((p) => {
      if (now - p.since < this.maxWaitMs) return true;
      p.reject(
        new AuditChainError(
          'contention',
          `audit chain: no turn to append within ${this.maxWaitMs} ms (${p.attempts} refusals)`,
        ),
      );
      return false;
    });
    // First in line again: an entry refused for a newer one's sake keeps its place.
    this.queue.unshift(...retry);
    await Promise.all([...reload].map((s) => s.load(this.redis).catch(() => undefined)));
    return busy;
  }
}

function replyLost(seq: number): AuditChainError {
  return new AuditChainError(
    'reply_lost',
    `audit chain: the write was applied (entry ${seq}) and its answer lost with the connection`,
  );
}

/** A script's own refusal (Redis prefixes `ERR ` to codes it does not know as such). */
function isReply(err: unknown, code: string): boolean {
  return err instanceof Error && err.message.replace(/^ERR /, '').startsWith(`${code} `);
}

function parseHead(seq: string, hash: string): ChainHead | undefined {
  const n = Number(seq);
  if (!/^\d+$/.test(seq) || !Number.isSafeInteger(n) || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return { seq: n, hash };
}

/** The head named by a refusal; null when the stored head is garbage; undefined for other errors. */
function movedHead(err: unknown): ChainHead | null | undefined {
  if (!isReply(err, CHAIN_MOVED)) return undefined;
  const [, seq = '', hash = ''] = (err as Error).message.replace(/^ERR /, '').split(' ');
  return parseHead(seq, hash) ?? null;
}

/** Says what a refused XADD means: the stream holds ids the head does not account for. */
function explain(err: unknown, seq: number): unknown {
  if (err instanceof Error && /equal or smaller than the target stream top item/.test(err.message)) {
    return new AuditChainError(
      'stream_ahead',
      `audit chain: the stream already holds an entry at or after seq ${seq}, beyond the stored head; ` +
        'the chain was altered (see GET /v1/audit/verify)',
    );
  }
  return err;
}
