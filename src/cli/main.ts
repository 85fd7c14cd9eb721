/** The `lastday` command line (commander): one file per command under ./commands. */
import { Command } from 'commander';
import { enqueueCommand } from './commands/enqueue.ts';
import { rejectedCommand } from './commands/rejected.ts';
import { schemaCommand } from './commands/schema.ts';
import { startCommand } from './commands/start.ts';
import { tokenCommand } from './commands/token.ts';
import { NoRedisError } from './redis.ts';

const program = new Command()
  .name('lastday')
  .description(
    'offboarding access revocation: reduce before the last day, revoke at its end, hold what a leaver started',
  )
  .showHelpAfterError();

for (const register of [startCommand, enqueueCommand, rejectedCommand, schemaCommand, tokenCommand]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`lastday: ${(err as Error).message}\n`);
  process.exit(err instanceof NoRedisError ? 2 : 1);
}
