/**
 * The whole path on real Redis and real BullMQ workers: a signed HR event over
 * HTTP, privileged grants reduced at once, the directory user disabled at the
 * end of the (compressed) last day, and the audit chain intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/runtime.ts';
import { endingSoon, hrEvent } from '../helpers/events.ts';
import { api as apiAt } from '../helpers/http.ts';
import { bearer, eventually, signedHeaders, TOKENS, testRuntime, testSettings } from '../helpers/lastday.ts';

let rt: Runtime;

beforeAll(async () => {
  rt = await testRuntime(testSettings({ policy: { verifyAfterMinutes: 0.02 } }));
});
afterAll(async () => {
  await rt?.stop();
});

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  apiAt(rt.url!, method, path, body, headers);

describe('compressed timeline', () => {
  it('reduces at once, revokes at endTime, verifies, and the audit chain holds', async () => {
    const personId = 'contractor/with:odd id';
    const enc = encodeURIComponent(personId);
    const put = await api(
      'PUT',
      `/v1/directory/users/${enc}`,
      {
        active: true,
        grants: [
          { id: 'g-admin', system: 'cms', role: 'admin', privileged: true },
          { id: 'g-read', system: 'cms', role: 'reader', privileged: false },
        ],
      },
      bearer(TOKENS.admin),
    );
    expect(put.status).toBe(200);

    const soon = endingSoon(3);
    const event = hrEvent({
      personId,
      lastDay: soon.lastDay,
      endTime: soon.endTime,
      timezone: soon.timezone,
    });
    const body = JSON.stringify(event);
    const res = await fetch(`${rt.url}/v1/hr-events`, { method: 'POST', headers: signedHeaders(body), body });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ eventId: event.eventId, status: 'accepted' });

    // reduce (past due) runs at once: the admin grant goes, the reader grant stays.
    await eventually(async () => {
      const user = await api('GET', `/v1/directory/users/${enc}`, undefined, bearer(TOKENS.viewer));
      return user.body?.grants?.length === 1 && user.body.grants[0].id === 'g-read';
    });
    // The grant goes before the milestone is saved done: wait for the status too.
    const mid = await eventually(async () => {
      const p = await api('GET', `/v1/people/${enc}`, undefined, bearer(TOKENS.viewer));
      return ['reduced', 'frozen'].includes(p.body.status) ? p : undefined;
    });
    expect(mid.body.endsAt).toBe(soon.endsAt.toISO({ suppressMilliseconds: true }));

    // revoke at endTime: disabled, nothing left. The account is disabled first and its
    // grants removed in a second write: wait for both, so a slow machine sees the end state.
    const user = await eventually(async () => {
      const u = await api('GET', `/v1/directory/users/${enc}`, undefined, bearer(TOKENS.viewer));
      return u.body?.active === false && u.body.grants?.length === 0 ? u.body : undefined;
    }, 15_000);
    expect(user.active).toBe(false);
    expect(user.grants).toEqual([]);

    const person = await eventually(async () => {
      const p = await api('GET', `/v1/people/${enc}`, undefined, bearer(TOKENS.viewer));
      return p.body.milestones.every((m: { state: string }) => m.state === 'done') ? p.body : undefined;
    }, 15_000);
    expect(person.status).toBe('revoked');
    expect(person.milestones.map((m: { name: string }) => m.name)).toEqual([
      'notice',
      'reduce',
      'freeze',
      'revoke',
      'verify',
    ]);
    const revoke = person.milestones.find((m: { name: string }) => m.name === 'revoke');
    expect(Date.parse(revoke.doneAt)).toBeGreaterThanOrEqual(Date.parse(revoke.dueAt));

    const audit = await api('GET', `/v1/audit?personId=${enc}`, undefined, bearer(TOKENS.viewer));
    const types = audit.body.entries.map((e: { type: string }) => e.type);
    expect(types).toContain('hr_event.applied');
    expect(types.filter((t: string) => t === 'effect.reduce')).toHaveLength(1);
    expect(types.filter((t: string) => t === 'effect.revoke')).toHaveLength(1);
    const verify = await api('GET', '/v1/audit/verify', undefined, bearer(TOKENS.viewer));
    expect(verify.body.ok).toBe(true);
    expect(verify.body.entries).toBeGreaterThan(5);
  });
});
