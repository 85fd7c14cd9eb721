/**
 * Plumbing of the verbs that are API clients (status, upcoming, holds, approve,
 * cancel, audit, evidence, rejected): the client for this run's environment,
 * and API failures told in words, with the contract's code and an exit code.
 */
import { type ApiClient, ApiError, ApiSetupError, ApiUnreachableError, clientFromEnv } from './apiClient.ts';
import { type CliIo, EXIT } from './io.ts';

/** Runs `fn` with the client; with `--json`, an API error is also printed on stdout as the API sent it. */
export async function withApi<T>(
  io: CliIo,
  json: boolean | undefined,
  fn: (api: ApiClient) => Promise<T>,
): Promise<T> {
  const api = clientFromEnv(io.env);
  try {
    return await fn(api);
  } catch (err) {
    if (json && err instanceof ApiError) io.stdout.write(`${JSON.stringify(err.body, null, 2)}\n`);
    throw err;
  }
}

/** What a refusal means, for a person reading the terminal. */
const HINTS: Record<string, string> = {
  unauthorized:
    'LASTDAY_TOKEN missing or unknown: set LASTDAY_TOKEN to a token from the server’s auth.tokens ' +
    '(`npx lastday token create` makes one and the config entry that stores its hash)',
  forbidden:
    'the role of LASTDAY_TOKEN may not do this (reading needs viewer; approve and cancel need approver; reinstate needs admin)',
  self_approval:
    'the two-person rule: whoever started an action may not approve it; another person must, with their own token',
  approver_departing:
    'a person whose own offboarding has begun (reduced, frozen or revoked) may not approve actions',
};

/** Exit code and the stderr lines for an API failure; undefined when `err` is not one. */
export function describeApiFailure(err: unknown): { exitCode: number; lines: string[] } | undefined {
  if (err instanceof ApiUnreachableError) return { exitCode: EXIT.unreachable, lines: [err.message] };
  if (err instanceof ApiSetupError) return { exitCode: EXIT.failed, lines: [err.message] };
  if (!(err instanceof ApiError)) return undefined;
  const lines =
    err.code === 'unauthorized'
      ? [`${HINTS.unauthorized} (${err.status} unauthorized)`]
      : [`${err.code}: ${err.message}`, ...(HINTS[err.code] ? [`  ${HINTS[err.code]}`] : [])];
  for (const issue of err.issues) lines.push(`  ${issue.path || '(body)'}: ${issue.message}`);
  const exitCode = err.status === 404 ? EXIT.notFound : err.status === 503 ? EXIT.unreachable : EXIT.failed;
  return { exitCode, lines };
}
