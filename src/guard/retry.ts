/**
 * A failure of a managed action's execution worth retrying: thrown out of the
 * `execute` job so BullMQ retries it with the capped backoff of the actions
 * worker (src/app/workers.ts); the last attempt raises an alert (jobs/actions.ts).
 */
export class ExecutionRetry extends Error {
  override readonly name: string = 'ExecutionRetry';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
