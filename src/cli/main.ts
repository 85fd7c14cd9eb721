/** The `lastday` command line (commander): one file per command under ./commands. */
import { Command } from 'commander';
import { LastdayError } from '../domain/errors.ts';
import { approveCommand } from './commands/approve.ts';
import { cancelCommand } from './commands/cancel.ts';
import { demoCommand } from './commands/demo.ts';
import { enqueueCommand } from './commands/enqueue.ts';
import { holdsCommand } from './commands/holds.ts';
import { auditCommand } from './commands/audit.ts';
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
  holdsCommand,
  approveCommand,
  cancelCommand,
  demoCommand,
]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Refusals carry the contract's code (self_approval, approver_departing, …) for scripts.
  const message = err instanceof LastdayError ? `${err.code}: ${err.message}` : (err as Error).message;
  process.stderr.write(`lastday: ${message}\n`);
  process.exit(err instanceof NoRedisError ? 2 : 1);
}
