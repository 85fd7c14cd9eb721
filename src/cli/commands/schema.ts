/** `lastday schema`: the HR event JSON Schema, for integrators. */
import type { Command } from 'commander';
import { hrEventJsonSchema } from '../../domain/hrEvent.ts';

export function schemaCommand(program: Command): void {
  program
    .command('schema')
    .description('print the HR event JSON Schema')
    .action(() => {
      process.stdout.write(`${JSON.stringify(hrEventJsonSchema(), null, 2)}\n`);
    });
}
