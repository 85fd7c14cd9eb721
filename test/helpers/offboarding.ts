/** Driving a running lastday through its HTTP API and reading back what it did. */
import type { Runtime } from '../../src/app/runtime.ts';
import type { AuditEntry } from '../../src/store/audit.ts';
import { endingSoon, hrEvent } from './events.ts';
import { signedHeaders } from './lastday.ts';

/** Posts a signed HR event and expects it accepted. */
export async function postHrEvent(rt: Runtime, event: Record<string, unknown>): Promise<void> {
  const body = JSON.stringify(event);
  const res = await fetch(`${rt.url}/v1/hr-events`, { method: 'POST', headers: signedHeaders(body), body });
  if (res.status !== 202) throw new Error(`HR event refused: ${res.status} ${await res.text()}`);
}

/**
 * A contractor whose last day ends `secondsAhead` after `extra.from` (default:
 * now; a test driving the runtime's clock passes that clock's now). Reduce is
 * due at once.
 */
export async function offboardSoon(
  rt: Runtime,
  personId: string,
  secondsAhead: number,
  extra: { email?: string; from?: Date } = {},
): Promise<ReturnType<typeof endingSoon>> {
  const soon = endingSoon(secondsAhead, undefined, extra.from);
  const event = hrEvent({ personId, lastDay: soon.lastDay, endTime: soon.endTime, timezone: soon.timezone });
  if (extra.email) (event.person as Record<string, unknown>).email = extra.email;
  await postHrEvent(rt, event);
  return soon;
}

export async function milestones(rt: Runtime, personId: string) {
  return (await rt.ctx.people.get(personId))?.milestones ?? [];
}

export async function milestoneState(
  rt: Runtime,
  personId: string,
  name: string,
): Promise<string | undefined> {
  return (await milestones(rt, personId)).find((m) => m.name === name)?.state;
}

export async function allDone(rt: Runtime, personId: string): Promise<boolean> {
  const list = await milestones(rt, personId);
  return list.length > 0 && list.every((m) => m.state === 'done');
}

export async function auditOf(rt: Runtime, personId: string): Promise<AuditEntry[]> {
  return rt.ctx.audit.list({ personId, limit: 5000 });
}

/** Audit entries of one effect type for one connector. */
export async function effectEntries(rt: Runtime, personId: string, type: string, connector: string) {
  return (await auditOf(rt, personId)).filter((e) => e.type === type && e.details.connector === connector);
}
