/**
 * Notification bodies (src/domain/notification.ts) and the config and event
 * fields behind them: times in the person's zone and UTC across DST, HTML
 * escaped, no secret carried, and `person.manager` / `notifications` strict.
 */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { hrEventSchema } from '../../src/domain/hrEvent.ts';
import { alertMessage, bothZones, holdMessage, noticeMessage } from '../../src/domain/notification.ts';
import { applyHrEvent, type PersonRecord } from '../../src/domain/person.ts';
import { policySchema } from '../../src/domain/policy.ts';

const event = {
  eventId: 'wd-1',
  type: 'contract.ending',
  occurredAt: '2026-11-20T15:04:05-08:00',
  person: {
    id: 'c-1042',
    name: 'Sam <b>Contractor</b>',
    employment: 'contractor',
    timezone: 'America/Los_Angeles',
    manager: { id: 'm-7', email: 'mia@corp.example' },
  },
  lastDay: '2026-12-04',
  endTime: '17:00',
};

function record(): PersonRecord {
  const parsed = hrEventSchema.parse(event);
  const result = applyHrEvent(
    undefined,
    parsed,
    policySchema.parse({}),
    DateTime.fromISO('2026-11-21T00:00:00Z'),
  );
  if (result.outcome !== 'applied') throw new Error(result.reason);
  return result.record;
}

describe('notification bodies', () => {
  it('shows each instant in the zone and in UTC, across a DST change', () => {
    expect(bothZones('2026-12-05T01:00:00.000Z', 'America/Los_Angeles')).toBe(
      'Fri 4 Dec 2026, 17:00 PST (America/Los_Angeles) · Sat 5 Dec 2026, 01:00 UTC',
    );
    expect(bothZones('2026-07-01T00:00:00.000Z', 'America/Los_Angeles')).toBe(
      'Tue 30 Jun 2026, 17:00 PDT (America/Los_Angeles) · Wed 1 Jul 2026, 00:00 UTC',
    );
    expect(bothZones('2026-07-01T00:00:00.000Z', undefined)).toBe('Wed 1 Jul 2026, 00:00 UTC');
  });

  it('the notice names the person, the last day and the plan; HTML is escaped', () => {
    const m = noticeMessage(record());
    expect(m.subject).toBe(
      'Offboarding notice: Sam <b>Contractor</b> (c-1042), last day Friday 4 December 2026',
    );
    expect(m.text).toMatch(
      /\nAccess ends: +Fri 4 Dec 2026, 17:00 PST \(America\/Los_Angeles\) · Sat 5 Dec 2026, 01:00 UTC\n/,
    );
    expect(m.text).toContain('  - revoke: Fri 4 Dec 2026, 17:00 PST');
    expect(m.html).toContain('Sam &lt;b&gt;Contractor&lt;/b&gt;');
    expect(m.html).not.toContain('<b>Contractor');
    expect(m.slack).toContain('Sam &lt;b&gt;Contractor&lt;/b&gt;');
  });

  it('a hold carries its link, never its callback URL or payload', () => {
    const action = {
      actionId: 'a/1',
      initiatorId: 'c-1042',
      kind: 'data.delete',
      target: 'account:@vip-ceo',
      reason: 'target matches protected account:@vip-*',
      heldAt: '2026-12-01T10:00:00.000Z',
      callbackUrl: 'https://x.example/cb?token=s3cret',
      payload: { password: 's3cret' },
    };
    const m = holdMessage(
      [action],
      record(),
      '2026-12-04T10:00:00.000Z',
      (id) => `https://l.example/console/holds/${encodeURIComponent(id)}`,
    );
    expect(m.text).toContain('https://l.example/console/holds/a%2F1');
    expect(m.slack).toContain('<https://l.example/console/holds/a%2F1|Approve or cancel it in the console>');
    for (const body of [m.text, m.html, m.slack]) expect(body).not.toContain('s3cret');
  });

  it('an alert reads as a sentence with its milestone and due time', () => {
    const m = alertMessage(
      {
        kind: 'milestone_failed',
        message: 'revoke for c-1042 is failing',
        at: '2026-12-05T01:30:00.000Z',
        personId: 'c-1042',
        milestone: 'revoke',
        dueAt: '2026-12-05T01:00:00.000Z',
      },
      record(),
    );
    expect(m.subject).toBe('[lastday] Milestone failing past its deadline: revoke for c-1042');
    expect(m.text).toMatch(
      /\nDue: +Fri 4 Dec 2026, 17:00 PST \(America\/Los_Angeles\) · Sat 5 Dec 2026, 01:00 UTC\n/,
    );
  });
});

describe('person.manager and notifications are strict', () => {
  it('refuses unknown fields and bad addresses', () => {
    const bad = structuredClone(event);
    (bad.person.manager as Record<string, unknown>).phone = '1';
    expect(hrEventSchema.safeParse(bad).success).toBe(false);
    const badMail = structuredClone(event);
    badMail.person.manager.email = 'not-an-address';
    expect(hrEventSchema.safeParse(badMail).success).toBe(false);
    expect(() => parseConfig({ notifications: { ops: ['x'] } })).toThrow(/notifications\.ops\.0/);
    expect(() => parseConfig({ notifications: { email: { smtpUrl: 'http://x', from: 'a@b.c' } } })).toThrow(
      /notifications\.email\.smtpUrl: expected an smtp/,
    );
    expect(() => parseConfig({ notifications: { sms: {} } })).toThrow(/notifications/);
    expect(parseConfig({}).notifications).toMatchObject({
      ops: [],
      approvers: [],
      holdExpiryWarningHours: 12,
    });
  });
});
