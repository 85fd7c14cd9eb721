/**
 * Acknowledged writes survive a failover: before lastday answers "accepted"
 * (an HR event, an action registration, an approval or cancellation) it asks
 * the master that holds its keys to confirm the write reached one replica,
 * `WAIT 1 <LASTDAY_REPLICA_WAIT_MS>`. Redis replication is asynchronous, so
 * without it a master killed right after the answer can take the write with
 * it when its replica is promoted.
 *
 * WAIT counts the writes of the connection it is sent on: on a cluster it
 * goes to the node connection that owns lastday's slot (the one that carried
 * the writes). A Redis with no replica skips it (it would only add the timeout);
 * the count of online replicas is read from `INFO replication` and cached for two seconds.
 * A WAIT that times out does not fail the request (the write is on the master
 * and the caller's retry would be a duplicate anyway); it is logged.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type RedisClient, slotOwner } from './connection.ts';

const REPLICAS_TTL_MS = 2_000;

export class ReplicaWait {
  private readonly replicas = new Map<Redis, { count: number; at: number }>();

  constructor(
    private readonly redis: RedisClient,
    /** A key in lastday's slot (any key under the prefix). */
    private readonly slotKey: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  /**
   * Resolves once one replica has the writes so far, or the timeout passed:
   * with the number of replicas that confirmed (the fewest, over the masters
   * of the slot and of `alsoKeys`), or undefined when skipped (off, no
   * replica, no known slot owner).
   */
  async wait(alsoKeys: readonly string[] = []): Promise<number | undefined> {
    if (this.timeoutMs <= 0) return undefined;
    // The slot's master, and the masters of other keys the acknowledged write
    // touched (an event id's key is in a slot of its own on a cluster).
    const nodes = [this.slotKey, ...alsoKeys]
      .map((key) => slotOwner(this.redis, key))
      .filter((node, i, all): node is Redis => node !== undefined && all.indexOf(node) === i);
    if (nodes.length === 0) return undefined;
    const acks = await Promise.all(nodes.map((node) => this.waitOn(node)));
    const waited = acks.filter((n): n is number => n !== undefined);
    return waited.length === 0 ? undefined : Math.min(...waited);
  }

  private async waitOn(node: Redis): Promise<number | undefined> {
    if ((await this.replicaCount(node)) === 0) return undefined;
    const acked = Number(await node.call('WAIT', 1, this.timeoutMs));
    if (acked < 1) {
      this.log.warn({ timeoutMs: this.timeoutMs }, 'no replica confirmed an acknowledged write in time');
    }
    return acked;
  }

  private async replicaCount(node: Redis): Promise<number> {
    const cached = this.replicas.get(node);
    if (cached && Date.now() - cached.at < REPLICAS_TTL_MS) return cached.count;
    const info = String(await node.info('replication'));
    // Online replicas only: one still in its initial sync would not answer WAIT.
    const count = (info.match(/^slave\d+:.*state=online/gm) ?? []).length;
    this.replicas.set(node, { count, at: Date.now() });
    return count;
  }
}
