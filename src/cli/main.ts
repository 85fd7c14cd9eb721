/** The `lastday` command line (commander): one file per command under ./commands. */
import { Command } from 'commander';
import { auditCommand } from './commands/audit.ts';
import { enqueueCommand } from './commands/enqueue.ts';
import { evidenceCommand } from './commands/evidence.ts';
import { queuesCommand } from './commands/queues.ts';
import { rejectedCommand } from './commands/rejected.ts';
import { runCommand } from './commands/run.ts';
import { schemaCommand } from './commands/schema.ts';
import { startCommand } from './commands/start.ts';
import { statusCommand } from './commands/status.ts';
import { tokenCommand } from './commands/token.ts';
import { upcomingCommand } from './commands/upcoming.ts';
import { NoRedisError } from './redis.ts';

const program = new Command()
  .name('lastday')
  .description(
    'offboarding access revocation: reduce before the last day, revoke at its end, hold what a leaver started',
  )
  .showHelpAfterError();

for (const register of [
  startCommand,
  enqueueCommand,
  statusCommand,
  upcomingCommand,
  queuesCommand,
  auditCommand,
  evidenceCommand,
  rejectedCommand,
  runCommand,
  schemaCommand,
  tokenCommand,
]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`lastday: ${(err as Error).message}\n`);
  process.exit(err instanceof NoRedisError ? 2 : 1);
}
