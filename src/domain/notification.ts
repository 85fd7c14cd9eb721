/**
 * What lastday tells people (contract v1.1 `notifications`), as data: each
 * notification is one Letter (a heading, labelled rows, an optional list and
 * link), rendered to a plain-text body, an HTML body and a Slack message from
 * that same data, so the three never say different things. Every instant is
 * shown in the person's zone and in UTC. Pure: no I/O, no clock.
 *
 * Nothing secret goes in: no tokens, no callback URLs (they may carry
 * credentials in their query), no action payloads.
 */
import { DateTime } from 'luxon';
import type { ActionRecord } from './action.ts';
import type { Milestone } from './milestone.ts';
import type { PersonRecord } from './person.ts';

export type NotificationKind = 'notice' | 'hold' | 'hold_expiring' | 'alert';

/** One notification, rendered. */
export interface Message {
  subject: string;
  text: string;
  html: string;
  /** Slack mrkdwn. */
  slack: string;
}

interface List {
  title: string;
  items: string[];
  more?: number;
}

interface Letter {
  subject: string;
  heading: string;
  rows: [label: string, value: string][];
  list?: List;
  link?: { label: string; url: string };
  why: string;
}

/** `Fri 4 Dec 2026, 17:00 PST (America/Los_Angeles) · Sat 5 Dec 2026, 01:00 UTC`; UTC alone without a zone. */
export function bothZones(iso: string, zone: string | undefined): string {
  const utc = DateTime.fromISO(iso, { zone: 'utc', locale: 'en-US' });
  if (!utc.isValid) return iso;
  const utcText = `${utc.toFormat('ccc d LLL yyyy, HH:mm')} UTC`;
  if (!zone || zone === 'UTC' || zone === 'Etc/UTC') return utcText;
  const local = utc.setZone(zone);
  return `${local.toFormat('ccc d LLL yyyy, HH:mm ZZZZ')} (${zone}) · ${utcText}`;
}

function who(record: PersonRecord | undefined, personId: string): string {
  const name = record?.person.name;
  return name ? `${name} (${personId})` : personId;
}

const WHAT: Record<string, string> = {
  reduce: 'privileged grants removed',
  freeze: 'destructive actions they start are held',
  revoke: 'disabled everywhere, remaining access removed',
  verify: 'every system read back; anything left is revoked again',
};

/** The `notice` milestone: to the manager and ops. */
export function noticeMessage(record: PersonRecord): Message {
  const { person } = record;
  const zone = person.timezone;
  const upcoming = record.milestones.filter((m) => m.name !== 'notice' && m.state === 'scheduled');
  const lastDay = record.lastDay
    ? DateTime.fromISO(record.lastDay, { locale: 'en-US' }).toFormat('cccc d LLLL yyyy')
    : undefined;
  const rows: Letter['rows'] = [
    ['Person', who(record, person.id)],
    ['Employment', person.employment],
    ...(person.department ? ([['Department', person.department]] as Letter['rows']) : []),
    ...(lastDay ? ([['Last day', lastDay]] as Letter['rows']) : []),
    ...(record.endsAt ? ([['Access ends', bothZones(record.endsAt, zone)]] as Letter['rows']) : []),
  ];
  return render({
    subject: `Offboarding notice: ${who(record, person.id)}${lastDay ? `, last day ${lastDay}` : ''}`,
    heading: `${person.name ?? person.id} is leaving; lastday will remove their access on schedule.`,
    rows,
    list: {
      title: 'What happens next',
      items: upcoming.map((m: Milestone) => `${m.name}: ${bothZones(m.dueAt, zone)} (${WHAT[m.name]})`),
    },
    why: "You receive this as the person's manager or as lastday ops. Nothing is needed from you unless the date is wrong: then correct it in the HR system.",
  });
}

/** Actions the notifier tells about; callback URLs and payloads are never read. */
export type HeldAction = Pick<ActionRecord, 'actionId' | 'initiatorId' | 'kind' | 'target' | 'reason'> & {
  heldAt: string;
};

const LIST_MAX = 20;

/** A new hold (or a freeze's batch of them): to the approvers, with a link to decide. */
export function holdMessage(
  actions: readonly HeldAction[],
  initiator: PersonRecord | undefined,
  expiresAt: string,
  holdLink: (actionId: string) => string,
): Message {
  const first = actions[0]!;
  const zone = initiator?.person.timezone;
  const by = who(initiator, first.initiatorId);
  if (actions.length === 1) {
    return render({
      subject: `Hold to decide: ${first.kind} on ${first.target} (by ${first.initiatorId})`,
      heading: 'A destructive action is held until a second person approves or cancels it.',
      rows: [
        ['Action', first.actionId],
        ['Kind', first.kind],
        ['Target', first.target],
        ['Started by', by],
        ['Why held', first.reason],
        ['Held at', bothZones(first.heldAt, zone)],
        ['Expires', `${bothZones(expiresAt, zone)} (cancelled if undecided)`],
      ],
      link: { label: 'Approve or cancel it in the console', url: holdLink(first.actionId) },
      why: 'You receive this as a lastday approver. You cannot approve your own action.',
    });
  }
  return render({
    subject: `${actions.length} holds to decide: actions started by ${first.initiatorId}`,
    heading: `${actions.length} destructive actions started by ${by} are held until a second person decides.`,
    rows: [
      ['Started by', by],
      ['Why held', first.reason],
      ['Held at', bothZones(first.heldAt, zone)],
      ['Expire', `${bothZones(expiresAt, zone)} (cancelled if undecided)`],
    ],
    list: listOf(actions, (a) => `${a.kind} on ${a.target}: ${holdLink(a.actionId)}`),
    link: { label: 'Decide them in the console', url: holdLink(first.actionId).replace(/\/[^/]*$/, '') },
    why: 'You receive this as a lastday approver. You cannot approve your own action.',
  });
}

/** Holds still undecided close to their expiry: to ops. */
export function holdExpiringMessage(
  actions: readonly HeldAction[],
  initiator: PersonRecord | undefined,
  expiresAt: string,
  holdLink: (actionId: string) => string,
): Message {
  const first = actions[0]!;
  const zone = initiator?.person.timezone;
  const n = actions.length;
  return render({
    subject:
      n === 1
        ? `Hold expiring undecided: ${first.kind} on ${first.target} (by ${first.initiatorId})`
        : `${n} holds expiring undecided: actions started by ${first.initiatorId}`,
    heading: `${n === 1 ? 'A held action has' : `${n} held actions have`} not been decided and will be cancelled at expiry.`,
    rows: [
      ['Started by', who(initiator, first.initiatorId)],
      ['Held at', bothZones(first.heldAt, zone)],
      ['Expires', bothZones(expiresAt, zone)],
    ],
    list: listOf(actions, (a) => `${a.actionId}: ${a.kind} on ${a.target}`),
    link: { label: 'Open it in the console', url: holdLink(first.actionId) },
    why: 'You receive this as lastday ops. Ask an approver to decide, or let it be cancelled.',
  });
}

/** What an alert carries that a person should read (see src/telemetry/alerts.ts). */
export interface AlertFacts {
  kind: string;
  message: string;
  at: string;
  personId?: string | undefined;
  milestone?: string | undefined;
  dueAt?: string | undefined;
  connector?: string | undefined;
}

const ALERT_TITLES: Record<string, string> = {
  milestone_failed: 'Milestone failing past its deadline',
  milestone_overdue: 'Milestone overdue',
  drift: 'Access found again after revoke (drift)',
};

/** A failed, overdue or drifting milestone: to ops. */
export function alertMessage(alert: AlertFacts, person: PersonRecord | undefined): Message {
  const zone = person?.person.timezone;
  const title = ALERT_TITLES[alert.kind] ?? `Alert: ${alert.kind}`;
  const rows: Letter['rows'] = [];
  if (alert.personId) rows.push(['Person', who(person, alert.personId)]);
  if (alert.milestone) rows.push(['Milestone', alert.milestone]);
  if (alert.dueAt) rows.push(['Due', bothZones(alert.dueAt, zone)]);
  if (alert.connector) rows.push(['System', alert.connector]);
  rows.push(['Raised', bothZones(alert.at, zone)]);
  rows.push(['Detail', alert.message]);
  const about = alert.milestone && alert.personId ? `: ${alert.milestone} for ${alert.personId}` : '';
  return render({
    subject: `[lastday] ${title}${about}`,
    heading: `${title}. lastday keeps retrying; a person should look.`,
    rows,
    why: 'You receive this as lastday ops. The audit trail and /metrics carry the same alert.',
  });
}

function listOf(actions: readonly HeldAction[], line: (a: HeldAction) => string): List {
  const shown = actions.slice(0, LIST_MAX).map(line);
  return {
    title: 'Actions',
    items: shown,
    ...(actions.length > LIST_MAX ? { more: actions.length - LIST_MAX } : {}),
  };
}

function render(letter: Letter): Message {
  return { subject: letter.subject, text: toText(letter), html: toHtml(letter), slack: toSlack(letter) };
}

function toText(l: Letter): string {
  const width = Math.max(0, ...l.rows.map(([label]) => label.length)) + 2;
  const lines = [l.heading, '', ...l.rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`)];
  if (l.list && l.list.items.length > 0) {
    lines.push('', `${l.list.title}:`, ...l.list.items.map((i) => `  - ${i}`));
    if (l.list.more) lines.push(`  … and ${l.list.more} more`);
  }
  if (l.link) lines.push('', `${l.link.label}:`, l.link.url);
  lines.push('', '-- ', l.why, '');
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function toHtml(l: Letter): string {
  const cell = 'padding:4px 12px 4px 0;vertical-align:top';
  const rows = l.rows
    .map(
      ([label, value]) =>
        `<tr><th style="${cell};text-align:left">${esc(label)}</th><td style="${cell}">${esc(value)}</td></tr>`,
    )
    .join('');
  const list =
    l.list && l.list.items.length > 0
      ? `<h3 style="font-size:15px;margin:16px 0 4px">${esc(l.list.title)}</h3><ul>${l.list.items
          .map((i) => `<li>${esc(i)}</li>`)
          .join('')}${l.list.more ? `<li>… and ${l.list.more} more</li>` : ''}</ul>`
      : '';
  const link = l.link
    ? `<p style="margin:16px 0"><a href="${esc(l.link.url)}" style="background:#1f4e8c;color:#fff;padding:8px 14px;border-radius:4px;text-decoration:none">${esc(l.link.label)}</a></p>`
    : '';
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(l.subject)}</title></head>`,
    '<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:14px;color:#1a1a1a;line-height:1.45">',
    `<p style="font-size:16px">${esc(l.heading)}</p>`,
    `<table role="presentation" style="border-collapse:collapse">${rows}</table>`,
    list,
    link,
    `<p style="color:#666;font-size:12px;margin-top:24px">${esc(l.why)}</p>`,
    '</body></html>',
  ].join('');
}

function slackEsc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function toSlack(l: Letter): string {
  const lines = [
    `*${slackEsc(l.subject)}*`,
    slackEsc(l.heading),
    ...l.rows.map(([k, v]) => `• *${slackEsc(k)}*: ${slackEsc(v)}`),
  ];
  if (l.list && l.list.items.length > 0) {
    lines.push(`*${slackEsc(l.list.title)}*`, ...l.list.items.map((i) => `• ${slackEsc(i)}`));
    if (l.list.more) lines.push(`… and ${l.list.more} more`);
  }
  if (l.link) lines.push(`<${l.link.url}|${slackEsc(l.link.label)}>`);
  return lines.join('\n');
}
