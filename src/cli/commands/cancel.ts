import type { Command } from 'commander';
import { withClient } from '../client.js';

export function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description('cancel a run: running steps are cancelled, nothing new starts')
    .argument('<run>', 'the run id')
    .addHelpText('after', '\nExample:\n  $ trellis cancel refund-damaged-order-1a2b3c4d')
    .action(async (run: string) => {
      await withClient(async (client) => {
        await client.cancel(run);
        process.stdout.write(`cancel requested for ${run}\n`);
      });
    });
}
