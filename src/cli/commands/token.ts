/**
 * `lastday token create`: a new random bearer token and the config entry that
 * stores only its SHA-256. The token is shown once, on stdout, never logged.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { type CliIo, usageError } from '../io.ts';

export function tokenCommand(program: Command, io: CliIo): void {
  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('generate a token and print its config entry (only the hash goes in the config)')
    .requiredOption('--name <name>', 'a name for the token (shows in the audit as the actor)')
    .requiredOption('--role <role>', 'one of viewer, approver, admin, system')
    .option('--person <personId>', 'the person the token acts as (required to approve)')
    .action(async (opts: { name: string; role: string; person?: string }) => {
      const [{ ROLES }, { sha256Hex }] = await Promise.all([
        import('../../config/schema.ts'),
        import('../../http/auth.ts'),
      ]);
      if (!(ROLES as readonly string[]).includes(opts.role)) {
        throw usageError(`--role: expected one of ${ROLES.join(', ')}`);
      }
      const value = `ld_${randomBytes(24).toString('base64url')}`;
      const entry = {
        name: opts.name,
        role: opts.role,
        ...(opts.person ? { personId: opts.person } : {}),
        sha256: sha256Hex(value),
      };
      io.stdout.write(
        `token (shown once, keep it secret): ${value}\n` +
          `add to auth.tokens in your config:\n${JSON.stringify(entry, null, 2)}\n`,
      );
    });
}
