/**
 * `lastday token create`: a new random bearer token and the config entry that
 * stores only its SHA-256. The token is shown once, on stdout, never logged.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { ROLES } from '../../config/schema.ts';
import { sha256Hex } from '../../http/auth.ts';

export function tokenCommand(program: Command): void {
  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('generate a token and print its config entry (only the hash goes in the config)')
    .requiredOption('--name <name>', 'a name for the token (shows in the audit as the actor)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--person <personId>', 'the person the token acts as (required to approve)')
    .action((opts: { name: string; role: string; person?: string }) => {
      if (!(ROLES as readonly string[]).includes(opts.role)) {
        process.stderr.write(`--role: expected one of ${ROLES.join(', ')}\n`);
        process.exit(1);
      }
      const value = `ld_${randomBytes(24).toString('base64url')}`;
      const entry = {
        name: opts.name,
        role: opts.role,
        ...(opts.person ? { personId: opts.person } : {}),
        sha256: sha256Hex(value),
      };
      process.stdout.write(
        `token (shown once, keep it secret): ${value}\n` +
          `add to auth.tokens in your config:\n${JSON.stringify(entry, null, 2)}\n`,
      );
    });
}
