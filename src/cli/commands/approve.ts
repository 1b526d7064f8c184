import type { Command } from 'commander';
import { withClient } from '../client.js';

export function registerApprove(program: Command): void {
  program
    .command('approve')
    .description('answer a step that waits for a person (an approval step, or the policy gate in front of a tool)')
    .argument('<run>', 'the run id')
    .argument('<step>', 'the step id')
    .option('--deny', 'deny instead of approve')
    .option('--by <name>', 'who answers (checked against the step approvers)')
    .option('--comment <text>', 'a comment kept with the answer')
    .addHelpText(
      'after',
      '\nExamples:\n  $ trellis approve refund-damaged-order-1a2b3c4d ok --by alice\n  $ trellis approve refund-damaged-order-1a2b3c4d ok --deny --comment "not damaged"',
    )
    .action(async (run: string, step: string, opts: { deny?: boolean; by?: string; comment?: string }) => {
      await withClient(async (client) => {
        const answer = { ...(opts.by !== undefined && { by: opts.by }), ...(opts.comment !== undefined && { comment: opts.comment }) };
        const result = opts.deny ? await client.deny(run, step, answer) : await client.approve(run, step, answer);
        process.stdout.write(`${result.approved ? 'approved' : 'denied'} ${step} of ${run}${result.by ? ` as ${result.by}` : ''}\n`);
      });
    });
}
