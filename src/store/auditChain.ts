/**
 * The audit appender: one per chain in a process, chaining every entry this
 * process writes, in order, with the hash computed here (auditHash.ts) rather
 * than in Redis.
 *
 * Each write is a chained script (lua/chain.ts) carrying the seq, prevHash and
 * hash planned from the head as this appender believes it to be. Writes that
 * arrive while a batch is in flight wait for the next batch; a batch is sent
 * as consecutive EVALSHAs on one connection (so Redis runs them in that
 * order), each planned on the one before it. A script refuses, having written
 * nothing, when the stored head is not its planned predecessor: another
 * process appended, or an earlier script of the batch did not append (its own
 * precondition failed, e.g. a person's revision). The refusal names the head
 * it found; the appender re-plans the refused writes on it and sends them
 * again, first. Correctness never rests on the appender's belief: every
 * script checks the stored head itself, so two processes (or two appenders)
 * on one chain interleave safely, and a wrong guess costs one more trip.
 */
import type { Redis } from 'ioredis';
import { type ChainHasher, contentHash, type EntryContent, GENESIS } from './auditHash.ts';
import { CHAIN_MOVED } from './lua/chain.ts';
import { isNoScript, type Script } from './lua/script.ts';

/** The keys of one chain: a later version keeps one chain per partition. */
export interface ChainKeys {
  /** String: the seq of the newest entry (absent = 0). */
  seq: string;
  /** String: the hash of the newest entry (absent = GENESIS). */
  head: string;
  /** Stream: the entries, id `<seq>-0`. */
  log: string;
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
  /** Lists the entry's seq is pushed to: [by person, by action] (the log key for none). */
  indexKeys: readonly [string, string];
}

export type AuditChainErrorReason = 'contention' | 'head_corrupt' | 'stream_ahead';

/** The chain cannot take an entry: the write was not applied. */
export class AuditChainError extends Error {
  override readonly name = 'AuditChainError';
  constructor(
    readonly reason: AuditChainErrorReason,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  write: ChainedWrite;
  contentHash: string;
  attempts: number;
  resolve(reply: unknown): void;
  reject(err: unknown): void;
}

export interface AuditChainOptions {
  /** Most writes sent in one batch (default 100). */
  maxBatch?: number;
  /** Sends of one write before it fails with `contention` (default 50). */
  maxAttempts?: number;
}

export class AuditChain {
  /** What this appender believes the stored head is; undefined = read it first. */
  private head: ChainHead | undefined;
  private highest = 0;
  private readonly queue: Pending[] = [];
  private flushing = false;
  private readonly maxBatch: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly redis: Redis,
    readonly keys: ChainKeys,
    readonly hasher: ChainHasher,
    options: AuditChainOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 100;
    this.maxAttempts = options.maxAttempts ?? 50;
  }

  /**
   * Runs the write's script with its entry chained on, resolving with the
   * script body's reply (whether or not its precondition let it append).
   */
  write(write: ChainedWrite): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, contentHash: contentHash(write.entry), attempts: 0, resolve, reject });
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

  private pump(): void {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    void this.flush().finally(() => {
      this.flushing = false;
      this.pump();
    });
  }

  /** Sends one batch and settles or re-queues each write in it. Never throws. */
  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    let start: ChainHead;
    try {
      start = this.head ?? (await this.readHead());
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    // Plan every write on the one before it, then send them all in order.
    let planHead = start;
    const plans = batch.map((p) => {
      const seq = planHead.seq + 1;
      const plan = {
        seq,
        prevHash: planHead.hash,
        hash: this.hasher.link(planHead.hash, seq, p.contentHash),
      };
      planHead = { seq, hash: plan.hash };
      return plan;
    });
    const replies = await Promise.allSettled(
      batch.map((p, i) => {
        const { script, keys, args, entry, indexKeys } = p.write;
        const plan = plans[i]!;
        return script.send(
          this.redis,
          [...keys, this.keys.seq, this.keys.head, this.keys.log, ...indexKeys],
          [
            ...args,
            plan.seq,
            plan.prevHash,
            plan.hash,
            entry.at,
            entry.type,
            entry.actor,
            entry.personId,
            entry.actionId,
            entry.details,
          ],
        );
      }),
    );

    // Walk the replies in the order Redis ran them, tracking the stored head.
    let head: ChainHead | undefined = start;
    const again: Pending[] = [];
    const reload = new Set<Script>();
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
        again.push(p);
      } else if (isNoScript(r.reason)) {
        // Redis lost its script cache: nothing ran; load and send again.
        reload.add(p.write.script);
        again.push(p);
      } else {
        head = undefined;
        p.reject(explain(r.reason, plan.seq));
      }
    }
    this.head = head;
    if (head) this.highest = Math.max(this.highest, head.seq);

    const retry = again.filter((p) => {
      if (++p.attempts < this.maxAttempts) return true;
      p.reject(
        new AuditChainError('contention', `audit chain: the head moved on ${p.attempts} tries in a row`),
      );
      return false;
    });
    // First in line again: an entry refused for a newer one's sake keeps its place.
    this.queue.unshift(...retry);
    await Promise.all([...reload].map((s) => s.load(this.redis).catch(() => undefined)));
  }
}

function parseHead(seq: string, hash: string): ChainHead | undefined {
  const n = Number(seq);
  if (!/^\d+$/.test(seq) || !Number.isSafeInteger(n) || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return { seq: n, hash };
}

/** The head named by a refusal; null when the stored head is garbage; undefined for other errors. */
function movedHead(err: unknown): ChainHead | null | undefined {
  if (!(err instanceof Error) || !err.message.startsWith(CHAIN_MOVED)) return undefined;
  const [, seq = '', hash = ''] = err.message.split(' ');
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
