/** The evidence report as Markdown, for humans, tickets and auditors. */
import { type EvidenceReport, formatLag } from './evidence.ts';
import { MILESTONES } from './milestone.ts';

/** The report as Markdown, for humans and tickets. */
export function evidenceMarkdown(r: EvidenceReport): string {
  const cell = (v: unknown) => String(v ?? '—').replace(/\|/g, '\\|');
  const row = (cells: unknown[]) => `| ${cells.map(cell).join(' | ')} |`;
  const lines: string[] = [];
  lines.push(`# Offboarding evidence: ${r.person.name ? `${r.person.name} (${r.person.id})` : r.person.id}`);
  lines.push('');
  lines.push(`Generated ${r.generatedAt} by lastday.`);
  lines.push('');
  lines.push(
    `- Status: **${r.status}**${r.reinstatementRequired ? ' (reinstatement required)' : ''}`,
    `- Employment: ${r.person.employment}; time zone ${r.person.timezone}`,
    `- Last day: ${r.lastDay ?? '—'} at ${r.endTime ?? '—'} (ends ${r.endsAt ?? '—'})`,
  );
  lines.push(
    '',
    '## Controls',
    '',
    row(['control', 'requirement', 'result', 'detail']),
    row(['---', '---', '---', '---']),
  );
  for (const c of r.controls) lines.push(row([c.control, c.requirement, c.result.toUpperCase(), c.detail]));
  lines.push(
    '',
    '## Timeline: planned vs done',
    '',
    row(['milestone', 'first planned', 'due', 'state', 'done', 'lag']),
    row(['---', '---', '---', '---', '---', '---']),
  );
  const byName = new Map(r.milestones.map((m) => [m.name, m]));
  for (const name of MILESTONES) {
    const m = byName.get(name);
    if (!m) continue;
    const notes = [
      ...(m.lastError ? [m.lastError] : []),
      ...(m.earlyRunsPutBack ? [`${m.earlyRunsPutBack} early run(s) put back`] : []),
    ];
    lines.push(
      row([
        m.name,
        m.firstPlannedAt,
        m.dueAt,
        m.state + (notes.length > 0 ? ` (${notes.join('; ')})` : ''),
        m.doneAt,
        lagCell(m),
      ]),
    );
  }
  lines.push(
    '',
    '## Plans (HR events applied, replans under a changed policy)',
    '',
    row(['version', 'applied', 'event', 'type', 'last day', 'ends']),
  );
  lines.push(row(['---', '---', '---', '---', '---', '---']));
  for (const p of r.plans)
    lines.push(row([p.planVersion, p.at, p.eventId, p.eventType, p.lastDay, p.endsAt]));
  lines.push('', '## What each connector did', '');
  if (r.connectors.length === 0) lines.push('Nothing yet.');
  else {
    lines.push(
      row(['cycle', 'effect', 'connector', 'state', 'at', 'grants']),
      row(['---', '---', '---', '---', '---', '---']),
    );
    for (const c of r.connectors) {
      const grants = c.removed.join(', ') + (c.drift ? ' (drift found and removed)' : '');
      lines.push(row([c.cycle, c.effect, c.connector, c.state, c.at, grants || '—']));
    }
  }
  if (r.reinstatement) {
    const ri = r.reinstatement;
    lines.push('', '## Reinstatement', '');
    lines.push(
      ri.reinstatedAt
        ? `Reinstated ${ri.reinstatedAt}${ri.approvalToEnabledMs !== undefined ? `; every connector enabled ${Math.round(ri.approvalToEnabledMs)} ms after the approval` : ''}.`
        : 'Not reinstated (yet).',
      '',
      row(['action', 'requested', 'by', 'reason', 'approved by', 'approved', 'closed']),
      row(['---', '---', '---', '---', '---', '---', '---']),
    );
    for (const q of ri.requests)
      lines.push(row([q.actionId, q.at, q.requestedBy, q.reason, q.approvedBy, q.approvedAt, q.closed]));
    if (ri.connectors.length > 0) {
      lines.push(
        '',
        row(['connector', 'enabled', 'grants restored', 'restored']),
        row(['---', '---', '---', '---']),
      );
      for (const c of ri.connectors)
        lines.push(row([c.connector, c.enabledAt, c.restoredAt, c.restored.join(', ') || '—']));
    }
  }
  lines.push('', '## Holds on actions the person started', '');
  if (!r.holds.available) lines.push('The action gate is not installed in this deployment.');
  else if (r.holds.items.length === 0) lines.push('None.');
  else {
    lines.push(
      row(['action', 'kind', 'target', 'state', 'held', 'decided by', 'decided']),
      row(['---', '---', '---', '---', '---', '---', '---']),
    );
    for (const h of r.holds.items)
      lines.push(row([h.actionId, h.kind, h.target, h.state, h.heldAt, h.decidedBy, h.decidedAt]));
  }
  if (r.alerts.length > 0) {
    lines.push('', '## Alerts', '');
    for (const a of r.alerts) lines.push(`- ${a.at} **${a.kind}**: ${a.message}`);
  }
  lines.push(
    '',
    '## Audit chain',
    '',
    `${r.audit.personEntries} entries about this person; the whole chain (${r.audit.chainEntries} entries) ${
      r.audit.chainOk ? '**verifies**' : `**does not verify** (broken at ${r.audit.brokenAt})`
    }.`,
    '',
  );
  return lines.join('\n');
}

/** The lag column: early effects stand out; a late HR event's share is named. */
function lagCell(m: EvidenceReport['milestones'][number]): string | undefined {
  if (m.lagSeconds === undefined) return undefined;
  if (m.early) return `**${formatLag(-m.lagSeconds)} EARLY**`;
  if (!m.actionableAt) return formatLag(m.lagSeconds);
  const hr = Math.round((Date.parse(m.actionableAt) - Date.parse(m.dueAt)) / 1000);
  return `${formatLag(m.lagSeconds)} (HR event ${formatLag(hr)} after due)`;
}
