/**
 * The built-in directory: PUT (role admin) and GET (role viewer)
 * /v1/directory/users/:personId. A PUT cannot undo a leaver's offboarding
 * (src/domain/directoryEdit.ts): `409 conflict`.
 */
import type { FastifyInstance } from 'fastify';
import { guardStatus } from '../../domain/action.ts';
import { directoryEditRefusal } from '../../domain/directoryEdit.ts';
import { LastdayError } from '../../domain/errors.ts';
import { toIssues } from '../../domain/zodIssues.ts';
import { directoryUserSchema } from '../../store/directory.ts';
import { principalOf } from '../access.ts';
import { addRoutes } from '../routeTable.ts';
import type { HttpDeps } from '../server.ts';

/** How long a PUT waits for the person lock (a milestone job holds it briefly). */
const LOCK_WAIT_MS = 5_000;

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
        const shard = ctx.shardOf(personId);
        // Under the person lock: a revoke in progress finishes first, and is then
        // seen (an edit slipped in between its disable and its save would undo it).
        const deadline = Date.now() + LOCK_WAIT_MS;
        for (;;) {
          const result = await shard.lock.withLock(personId, async () => {
            const [record, current] = await Promise.all([
              shard.people.get(personId),
              ctx.directory.get(personId),
            ]);
            const refusal = directoryEditRefusal(
              personId,
              guardStatus(record, null),
              current?.grants ?? [],
              parsed.data,
            );
            if (refusal) throw new LastdayError('conflict', refusal);
            const at = ctx.now().toISOString();
            await ctx.directory.put(personId, parsed.data, at);
            // The person's chain (their partition's), where their history is read.
            await shard.audit.append({
              at,
              type: 'directory.user_put',
              actor: principal.name,
              personId,
              details: { active: parsed.data.active, grants: parsed.data.grants.map((g) => g.id) },
            });
          });
          if (result.locked) break;
          if (Date.now() > deadline) throw new LastdayError('conflict', `${personId} is busy; retry`);
          await new Promise((r) => setTimeout(r, 25 + Math.random() * 25));
        }
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
