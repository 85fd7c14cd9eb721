/** `lastday schema`: the HR event JSON Schema, for integrators. */
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';

export function schemaCommand(program: Command, io: CliIo): void {
  program
    .command('schema')
    .description('print the HR event JSON Schema')
    .action(async () => {
      const { hrEventJsonSchema } = await import('../../domain/hrEvent.ts');
      io.stdout.write(`${JSON.stringify(hrEventJsonSchema(), null, 2)}\n`);
    });
}
