/**
 * One GuardService per running context: the routes, the freeze hook and the
 * actions worker of a runtime share it (and its queue producer).
 */
import { Queue } from 'bullmq';
import type { Context } from '../app/context.ts';
import { type ActionJobData, type ActionJobName, type ActionsQueue } from '../queues/actions.ts';
import { QUEUES } from '../queues/names.ts';
import { GuardService } from './service.ts';

const services = new WeakMap<Context, GuardService>();

export function guardFor(ctx: Context): GuardService {
  let guard = services.get(ctx);
  if (!guard) {
    guard = createGuard(ctx);
    services.set(ctx, guard);
  }
  return guard;
}

/** A GuardService with its own queue producer on the context's connection; close it when done. */
export function createGuard(ctx: Context): GuardService {
  const queue: ActionsQueue = ctx.connections.watchQueue(
    new Queue<ActionJobData, unknown, ActionJobName>(QUEUES.actions, {
      connection: ctx.redis,
      prefix: ctx.prefix,
    }),
  );
  return new GuardService(ctx, queue);
}
