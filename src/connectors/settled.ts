/**
 * Runs every one of `tasks` to its end, then throws the first failure (if
 * any). `Promise.all` rejects at the first failure while the other calls
 * are still in flight: the connector's operation then returns (an LDAP
 * session is unbound under them; the job's retry starts while they still
 * land), so what the retry reads may be changed by the calls of the attempt
 * before it.
 */
export async function allSettledOrThrow<T>(tasks: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
