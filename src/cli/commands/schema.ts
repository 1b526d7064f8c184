import type { Command } from 'commander';
import { UsageError } from '../io.js';

/** The Temporal contract's schemas, by flag (docs/temporal-api.md says what each is for). */
const CONTRACT_FLAGS = {
  runArgs: 'run-args',
  goalArgs: 'goal-args',
  decision: 'decision',
  decisionResult: 'decision-result',
  refusal: 'refusal',
  status: 'status',
  result: 'result',
  failureDetails: 'failure-details',
} as const;

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description("print the spec's JSON Schema (for editors, and the planner's structured output), or with a flag one of the Temporal contract's")
    .option('--run-args', 'the argument of the workflow trellisRun')
    .option('--goal-args', 'the argument of the workflow trellisGoal')
    .option('--decision', 'the argument of the decide update and the approve signal')
    .option('--decision-result', "the decide update's result")
    .option('--refusal', "details[0] of a refused decision's failure (TrellisDecisionRefused)")
    .option('--status', "the status query's answer (and trellis status --json)")
    .option('--result', "a completed run's result")
    .option('--failure-details', "details[0] of a failed run's failure")
    .addHelpText('after', '\nExamples:\n  $ trellis schema > trellis.schema.json\n  $ trellis schema --decision')
    .action(async (opts: Partial<Record<keyof typeof CONTRACT_FLAGS, boolean>>) => {
      const chosen = (Object.keys(CONTRACT_FLAGS) as Array<keyof typeof CONTRACT_FLAGS>).filter((k) => opts[k]);
      if (chosen.length > 1) throw new UsageError(`give one schema flag at a time, got ${chosen.map((k) => `--${CONTRACT_FLAGS[k]}`).join(' and ')}`);
      let schema: unknown;
      if (chosen.length === 0) {
        const { specJsonSchema } = await import('../../spec/index.js');
        schema = specJsonSchema();
      } else {
        const { contractJsonSchema } = await import('../../contract/schemas.js');
        schema = contractJsonSchema(CONTRACT_FLAGS[chosen[0]!]);
      }
      process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    });
}
