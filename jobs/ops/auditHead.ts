/**
 * Publishes the audit chain's head on each reconcile pass: a log line with the
 * stored seq and hash, so a log archive outside Redis holds a copy an attacker
 * who can write Redis cannot reach. Verify cannot see a chain cut back
 * consistently (entries and head together); a copy of an older head can:
 * its seq must never go down, and the hash of a seq must never change.
 *
 * This process also remembers the highest seq it wrote or saw: a stored head
 * below it is a rollback, alerted once. And under LASTDAY_AUDIT_KEY a chain
 * written before the key was set is sealed (AuditStore.sealKeyed).
 */
import type { ChainHead } from '../../src/store/audit.ts';
import type { JobPorts } from '../ports.ts';

export type AuditHeadResult = (ChainHead & { sealed?: true }) | { error: string };

/** Never throws: a chain problem must not stop the reconcile pass that calls it. */
export async function publishAuditHead(
  ctx: Pick<JobPorts, 'audit' | 'log' | 'alerts' | 'now'>,
): Promise<AuditHeadResult> {
  try {
    return await publish(ctx);
  } catch (err) {
    const error = (err as Error).message;
    ctx.log.error({ err: error }, 'audit head: cannot read or publish it');
    return { error };
  }
}

async function publish(ctx: Pick<JobPorts, 'audit' | 'log' | 'alerts' | 'now'>) {
  const sealed = await ctx.audit.sealKeyed(ctx.now().toISOString());
  const { head, highestSeen: highest } = await ctx.audit.checkHead();
  ctx.log.info({ auditHead: { seq: head.seq, hash: head.hash }, keyed: ctx.audit.keyed }, 'audit head');
  if (head.seq < highest) {
    await ctx.alerts.raise({
      kind: 'audit_rollback',
      message: `the audit head went back from seq ${highest} to ${head.seq}: entries were removed`,
      details: { seq: head.seq, hash: head.hash, highestSeen: highest },
    });
  }
  return { ...head, ...(sealed ? { sealed: true as const } : {}) };
}
