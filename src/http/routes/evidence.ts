/** GET /v1/people/:personId/evidence (role viewer): JSON, or Markdown with `?format=md`. */
import type { FastifyInstance } from 'fastify';
import { loadEvidence } from '../../store/evidence.ts';
import { evidenceMarkdown } from '../../domain/evidenceMarkdown.ts';
import { LastdayError } from '../../domain/errors.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function evidenceRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  addRoutes(app, [
    {
      method: 'GET',
      url: '/v1/people/:personId/evidence',
      access: 'viewer',
      handler: async (request, reply) => {
        const { personId } = request.params as { personId: string };
        const { format = 'json' } = request.query as { format?: string };
        if (format !== 'json' && format !== 'md') {
          throw new LastdayError('invalid_request', 'format: expected json or md', [
            { path: 'format', message: 'expected json or md' },
          ]);
        }
        const report = await loadEvidence(ctx.shardOf(personId), personId);
        if (!report) throw new LastdayError('not_found', `no HR record for person ${personId}`);
        if (format === 'md') {
          return reply.type('text/markdown; charset=utf-8').send(evidenceMarkdown(report));
        }
        return report;
      },
    },
  ]);
}
