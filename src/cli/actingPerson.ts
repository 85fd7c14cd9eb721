/**
 * The acting person of `approve` and `cancel` is the person of LASTDAY_TOKEN,
 * decided by the server. The old `--as PERSON` let anyone name any second
 * person; it is refused by name, with the reason, rather than as an unknown option.
 */
import { type Command, Option } from 'commander';
import { usageError } from './io.ts';

export function refuseAs(command: Command): Command {
  return command.addOption(new Option('--as <personId>').hideHelp()).hook('preAction', (_command, action) => {
    if (action.opts().as !== undefined) {
      throw usageError(
        '--as is not accepted: the acting person is the personId of LASTDAY_TOKEN, decided by the server. ' +
          "Run this with that person's own token.",
      );
    }
  });
}
