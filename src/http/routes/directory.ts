/** The built-in directory: PUT (role admin) and GET (role viewer) /v1/directory/users/:personId. */
import type { FastifyInstance } from 'fastify';
import { LastdayError } from '../../domain/errors.ts';
import { toIssues } from '../../domain/zodIssues.ts';
import { directoryUserSchema } from '../../store/directory.ts';
import { principalOf } from '../access.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

export function directoryRoutes(app: FastifyInstance, { ctx }: HttpDeps): void {
  addRoutes(app, [
    {
      method: 'PUT',
      url: '/v1/directory/users/:personId',
      access: 'admin',
      handler: async (request) => {
        const principal = principalOf(request);
        const { personId } = request.params as { personId: string };
        const parsed = directoryUserSchema.safeParse(request.body);
        if (!parsed.success) {
          throw new LastdayError(
            'invalid_request',
            'invalid directory user',
            toIssues(parsed.error, request.body),
          );
        }
        const at = ctx.now().toISOString();
        await ctx.directory.put(personId, parsed.data, at);
        // The person's chain (their partition's), where their history is read.
        await ctx.shardOf(personId).audit.append({
          at,
          type: 'directory.user_put',
          actor: principal.name,
          personId,
          details: { active: parsed.data.active, grants: parsed.data.grants.map((g) => g.id) },
        });
        return { personId, ...(await ctx.directory.get(personId)) };
      },
    },
    {
      method: 'GET',
      url: '/v1/directory/users/:personId',
      access: 'viewer',
      handler: async (request) => {
        const { personId } = request.params as { personId: string };
        const user = await ctx.directory.get(personId);
        if (!user) throw new LastdayError('not_found', `no directory user ${personId}`);
        return { personId, ...user };
      },
    },
  ]);
}
