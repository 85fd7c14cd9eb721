/**
 * POST /v1/people/:personId/reinstatement (role admin; contract v1.1 section 3):
 * requests the undo of a revoke. The requester is the token's person; the
 * answer is the held `lastday.reinstate` action (201), or the open request
 * already registered for that person (200). A second person approves it with
 * POST /v1/actions/:id/approve. Rules live in src/guard/reinstate.ts.
 */
import type { FastifyInstance } from 'fastify';
import { requestReinstatement } from '../../guard/reinstate.ts';
import { principalOf } from '../access.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function reinstatementRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  addRoutes(app, [
    {
      method: 'POST',
      url: '/v1/people/:personId/reinstatement',
      access: 'admin',
      handler: async (request, reply) => {
        const { personId } = request.params as { personId: string };
        const answer = await requestReinstatement(
          ctx.shardOf(personId).guard,
          personId,
          request.body,
          principalOf(request),
        );
        return reply
          .status(answer.created ? 201 : 200)
          .send({ ...answer.action, personId, created: answer.created });
      },
    },
  ]);
}
