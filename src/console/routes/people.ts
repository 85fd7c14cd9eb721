/**
 * Upcoming offboardings (the console's home) and one person's page: timeline,
 * effects per connector, holds, audit trail and evidence to download. Reads
 * the same stores the API reads (people, effects, audit) and the same
 * evidence builder as GET /v1/people/:id/evidence.
 */
import { peopleIdsEndingBetween } from '../../app/partitioned.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { holdSummary } from '../../domain/evidence.ts';
import { loadEvidence } from '../../store/evidence.ts';
import { evidenceMarkdown } from '../../domain/evidenceMarkdown.ts';
import { LastdayError } from '../../domain/errors.ts';
import { requestReinstatement } from '../../guard/reinstate.ts';
import { principalOf } from '../../http/access.ts';
import { STATUS_OF } from '../../http/errors.ts';
import { MILESTONES } from '../../domain/milestone.ts';
import { personView } from '../../domain/person.ts';
import { DEFAULT_SCOPE } from '../../domain/policyScope.ts';
import type { PersonRecord } from '../../domain/person.ts';
import { addRoutes } from '../../http/routeTable.ts';
import { durationText, lateness, twoClocks, utcText, weekOf } from '../format.ts';
import type { ConsoleDeps } from '../plugin.ts';
import { page } from '../plugin.ts';

const DAY_MS = 86_400_000;
/** Rows per page of Upcoming; the filters apply to the whole window first. */
export const UPCOMING_PAGE_SIZE = 500;
/** The most people one window reads. */
const WINDOW_CAP = 50_000;
const READ_BATCH = 1000;

export function peopleRoutes(scope: FastifyInstance, { ctx }: ConsoleDeps): void {
  addRoutes(scope, [
    {
      method: 'GET',
      url: '/console',
      access: 'viewer',
      session: true,
      handler: async (request, reply) => {
        const q = request.query as Record<string, string | undefined>;
        const days = clamp(Number(q.days ?? 90) || 90, 1, 366);
        const filters = {
          status: oneOf(q.status, ['scheduled', 'reduced', 'frozen', 'revoked', 'cancelled']),
          employment: oneOf(q.employment, ['contractor', 'employee']),
          policy: (q.policy ?? '').slice(0, 100),
          q: (q.q ?? '').slice(0, 200).trim(),
        };
        const nowMs = ctx.now().getTime();
        const ids = await peopleIdsEndingBetween(ctx, nowMs, nowMs + days * DAY_MS, WINDOW_CAP);
        const filtered = Boolean(filters.status || filters.employment || filters.policy || filters.q);
        // Unfiltered, the sorted set already gives the order and the count: read one page of
        // records only. A filter has to look at every record of the window. The global
        // people store reads each record from its person's partition.
        let views: ReturnType<typeof personView>[] = [];
        let total = ids.length;
        const pageCount = () => Math.max(1, Math.ceil(total / UPCOMING_PAGE_SIZE));
        let pageNo = clamp(Number(q.page ?? 1) || 1, 1, pageCount());
        if (!filtered) {
          const slice = ids.slice((pageNo - 1) * UPCOMING_PAGE_SIZE, pageNo * UPCOMING_PAGE_SIZE);
          views = (await ctx.people.getMany(slice)).filter((r) => r.endsAt !== null).map(personView);
        } else {
          for (let i = 0; i < ids.length; i += READ_BATCH) {
            for (const record of await ctx.people.getMany(ids.slice(i, i + READ_BATCH))) {
              if (record.endsAt === null) continue;
              const view = personView(record);
              if (filters.status && view.status !== filters.status) continue;
              if (filters.employment && view.employment !== filters.employment) continue;
              if (filters.policy && view.policy !== filters.policy) continue;
              if (filters.q && !matchesText(record, filters.q)) continue;
              views.push(view);
            }
          }
          total = views.length;
          pageNo = clamp(pageNo, 1, pageCount());
          views = views.slice((pageNo - 1) * UPCOMING_PAGE_SIZE, pageNo * UPCOMING_PAGE_SIZE);
        }
        const shown = views;
        const weeks: { label: string; rows: unknown[] }[] = [];
        for (const v of shown) {
          const week = weekOf(v.endsAt!);
          const last = weeks.at(-1);
          const row = {
            ...v,
            ends: twoClocks(v.endsAt!, v.timezone),
            next: nextMilestone(v, nowMs),
          };
          if (last && last.label === week.label) last.rows.push(row);
          else weeks.push({ label: week.label, rows: [row] });
        }
        const query = new URLSearchParams(
          Object.entries({ days: String(days), ...filters }).filter(
            ([, v]) => v !== '' && v !== undefined,
          ) as [string, string][],
        );
        return page(request, reply, 'upcoming', {
          title: 'Upcoming offboardings',
          days,
          filters,
          scopes: [DEFAULT_SCOPE, ...ctx.policy.scopes.map((sc) => sc.name)],
          weeks,
          total,
          capped: ids.length >= WINDOW_CAP,
          pageNo,
          pageCount: pageCount(),
          query: query.toString(),
        });
      },
    },
    {
      method: 'GET',
      url: '/console/people/:personId',
      access: 'viewer',
      session: true,
      handler: async (request, reply) => showPerson(request, reply, personIdOf(request)),
    },
    {
      // Contract v1.1 section 3: the same request as POST /v1/people/:id/reinstatement.
      method: 'POST',
      url: '/console/people/:personId/reinstatement',
      access: 'admin',
      session: true,
      preHandler: scope.csrfProtection,
      handler: async (request, reply) => {
        const personId = personIdOf(request);
        const body = request.body as { reason?: unknown } | undefined;
        const reason = typeof body?.reason === 'string' ? body.reason : '';
        try {
          // The requester is the signed-in person; the form cannot name someone else.
          const answer = await requestReinstatement(
            ctx.shardOf(personId).guard,
            personId,
            { reason },
            principalOf(request),
          );
          return reply.redirect(`/console/holds/${encodeURIComponent(answer.action.actionId)}`, 303);
        } catch (err) {
          if (!(err instanceof LastdayError) || err.code === 'not_found') throw err;
          return showPerson(request, reply, personId, STATUS_OF[err.code], {
            kind: 'error',
            text: err.message,
          });
        }
      },
    },
    {
      method: 'GET',
      url: '/console/people/:personId/evidence.md',
      access: 'viewer',
      session: true,
      handler: async (request, reply) => {
        const { personId } = request.params as { personId: string };
        const report = await loadEvidence(ctx, personId);
        if (!report) throw new LastdayError('not_found', `lastday has no HR record for person ${personId}.`);
        const file = `lastday-evidence-${personId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100)}.md`;
        return reply
          .type('text/markdown; charset=utf-8')
          .header('content-disposition', `attachment; filename="${file}"`)
          .send(evidenceMarkdown(report));
      },
    },
  ]);

  async function showPerson(
    request: FastifyRequest,
    reply: FastifyReply,
    personId: string,
    status = 200,
    message?: { kind: 'error' | 'ok'; text: string },
  ) {
    const shard = ctx.shardOf(personId);
    const record = await shard.people.get(personId);
    if (!record) throw new LastdayError('not_found', `lastday has no HR record for person ${personId}.`);
    const view = personView(record);
    const nowMs = ctx.now().getTime();
    const [effects, audit, holds] = await Promise.all([
      shard.effects.all(personId),
      shard.audit.list({ personId, limit: 1000 }),
      shard.actions.everHeldOf(personId).then((held) => held.map(holdSummary)),
    ]);
    const milestones = MILESTONES.map((name) => view.milestones.find((m) => m.name === name))
      .filter((m) => m !== undefined)
      .map((m) => ({
        ...m,
        due: twoClocks(m.dueAt, view.timezone),
        done: m.doneAt ? twoClocks(m.doneAt, view.timezone) : undefined,
        lateness: lateness(m, nowMs),
      }));
    return page(
      request,
      reply,
      'person',
      {
        title: `Person ${personId}`,
        ...(message ? { message } : {}),
        canReinstate: view.status === 'revoked' || view.reinstatement_required,
        person: view,
        name: record.person.name,
        email: record.person.email,
        ends: view.endsAt ? twoClocks(view.endsAt, view.timezone) : undefined,
        milestones,
        timeline: timelineSvg(milestones),
        effects: Object.entries(effects)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, rec]) => {
            const [effect, connector] = key.split('|');
            return { effect, connector, state: rec.state, data: summarise(rec.data) };
          }),
        holds,
        audit: audit.map((e) => ({ ...e, when: utcText(e.at), details: summarise(e.details) })),
        evidenceUrl: `/console/people/${encodeURIComponent(personId)}/evidence.md`,
        reinstateUrl: `/console/people/${encodeURIComponent(personId)}/reinstatement`,
      },
      status,
    );
  }
}

function personIdOf(request: FastifyRequest): string {
  return (request.params as { personId: string }).personId;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(Math.trunc(n), lo), hi);
}

function oneOf(value: string | undefined, allowed: readonly string[]): string {
  return value !== undefined && allowed.includes(value) ? value : '';
}

function matchesText(record: PersonRecord, text: string): boolean {
  const needle = text.toLowerCase();
  return [record.person.id, record.person.name ?? '', record.person.email ?? ''].some((s) =>
    s.toLowerCase().includes(needle),
  );
}

/** The next open milestone, in words (`reduce in 2 d 3 h`). */
function nextMilestone(view: ReturnType<typeof personView>, nowMs: number): string {
  const next = view.milestones.find((m) => m.state === 'scheduled');
  if (!next) return '';
  const at = Date.parse(next.dueAt);
  return at >= nowMs ? `${next.name} in ${durationText(at - nowMs)}` : `${next.name} overdue`;
}

/** A short one-line text of a JSON value for a table cell (the full value is in the evidence). */
function summarise(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}

interface DrawnMilestone {
  name: string;
  state: string;
  due: { local: string; utc: string };
  lateness: { text: string; late: boolean };
}

/**
 * The timeline as inline SVG (no script, no style attribute: the CSP allows
 * neither): milestones evenly spaced on a line, each dot's class its state.
 * Returned as data for the template, which escapes every text.
 */
function timelineSvg(milestones: DrawnMilestone[]) {
  const width = 760;
  const step = milestones.length > 1 ? (width - 120) / (milestones.length - 1) : 0;
  return {
    width,
    height: 120,
    points: milestones.map((m, i) => ({
      x: 60 + i * step,
      name: m.name,
      state: m.state,
      when: m.due.local.replace(/^\w+ /, '').replace(/ \d{4},/, ','),
      utc: m.due.utc.slice(11),
      late: m.lateness.late,
    })),
  };
}
