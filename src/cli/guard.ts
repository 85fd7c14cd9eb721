/** Shared plumbing of the guard commands: a context with a GuardService, closed after. */
import type { GuardService } from '../guard/service.ts';
import { createGuard } from '../guard/instances.ts';
import { withContext } from './context.ts';

export async function withGuard<T>(fn: (guard: GuardService) => Promise<T>): Promise<T> {
  return withContext(async (ctx) => {
    const guard = createGuard(ctx);
    try {
      return await fn(guard);
    } finally {
      await guard.close();
    }
  });
}

/** The audit actor of CLI decisions: the operator's login, marked as coming from the CLI. */
export function cliActorName(): string {
  return `cli:${process.env.USER ?? process.env.USERNAME ?? 'operator'}`;
}
