/** GET /v1/people/:personId and GET /v1/offboardings (role viewer). */
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { LastdayError } from '../../domain/errors.ts';
import { personView } from '../../domain/person.ts';
import { peopleEndingBetween } from '../../app/partitioned.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function peopleRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  addRoutes(app, [
    {
      method: 'GET',
      url: '/v1/people/:personId',
      access: 'viewer',
      handler: async (request) => {
        const { personId } = request.params as { personId: string };
        const record = await ctx.shardOf(personId).people.get(personId);
        if (!record) throw new LastdayError('not_found', `no HR record for person ${personId}`);
        return personView(record);
      },
    },
    {
      method: 'GET',
      url: '/v1/offboardings',
      access: 'viewer',
      handler: async (request) => {
        const q = request.query as { from?: string; to?: string; limit?: string };
        const from = parseBound(q.from, 'from', 'start');
        const to = parseBound(q.to, 'to', 'end');
        const limit = Math.min(Math.max(Number(q.limit ?? 1000) || 1000, 1), 10_000);
        const records = await peopleEndingBetween(ctx, from, to, limit);
        const offboardings = records.filter((r) => r.endsAt !== null).map(personView);
        return { from: iso(from), to: iso(to), count: offboardings.length, offboardings };
      },
    },
  ]);
}

/** An ISO instant, or a date (`2026-12-01`: start of that day UTC for `from`, end for `to`). */
function parseBound(value: string | undefined, field: string, edge: 'start' | 'end'): number {
  if (value === undefined || value === '') return edge === 'start' ? -Infinity : Infinity;
  const dt = DateTime.fromISO(value, { zone: 'utc', setZone: true });
  if (!dt.isValid) {
    throw new LastdayError('invalid_request', `${field}: expected an ISO-8601 date or instant`, [
      { path: field, message: 'expected an ISO-8601 date or instant' },
    ]);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && edge === 'end') return dt.endOf('day').toMillis();
  return dt.toMillis();
}

function iso(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
