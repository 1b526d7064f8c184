import type { Command } from 'commander';
import { specJsonSchema } from '../../spec/index.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description("print the spec's JSON Schema (for editors, and the planner's structured output)")
    .addHelpText('after', '\nExample:\n  $ trellis schema > trellis.schema.json')
    .action(() => {
      process.stdout.write(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
    });
}
