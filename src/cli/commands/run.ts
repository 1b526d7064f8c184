import type { Command } from 'commander';
import type { TrellisClient } from '../../client/index.js';
import { TrellisRunError } from '../../client/errors.js';
import { formatProblem } from '../../spec/index.js';
import { inputProblems } from '../../spec/input.js';
import type { Budget } from '../../spec/schema.js';
import { exitFor, parseInput, withClient, WorkFailed } from '../client.js';
import { EXIT, printProblems, requireGoal, UsageError, validateFile } from '../io.js';

interface RunOpts {
  input?: string;
  id?: string;
  wait?: boolean;
  json?: boolean;
  tools?: string;
  specs?: string;
  goal?: string;
  review?: boolean;
  maxTokens?: string;
  maxCost?: string;
  maxSteps?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('validate a spec and start a run on the workers of TRELLIS_TASK_QUEUE; or, with --goal, plan and run in one durable run')
    .argument('[file]', 'the spec (JSON or YAML); not with --goal')
    .option('--goal <goal>', "the worker's planner writes the spec for this goal from its tools, then the run runs it")
    .option('--review', 'with --goal: wait for a person to approve the plan (`trellis approve RUN plan`) before any step runs')
    .option('--input <json>', 'the run input, as JSON text or @file.json')
    .option('--id <id>', 'the run id (default: the spec name, or "goal", and a random suffix)')
    .option('--wait', 'wait for the run to end; exit 0 when it completed, 1 when it failed')
    .option('--json', 'print { "runId", "status", "output" }')
    .option('--tools <module>', "with a FILE: also check tools and types before starting (a goal run uses the worker's tools)")
    .option('--specs <dir>', 'with a FILE: saved specs (default: TRELLIS_SPECS), to check call steps before starting')
    .option('--max-tokens <n>', 'budget: LLM tokens the whole run may use')
    .option('--max-cost <usd>', "budget: USD the run's model calls may cost, by the worker's prices (docs/cost.md)")
    .option('--max-steps <n>', 'budget: step executions the run may make (steps, map items, agent tool calls)')
    .addHelpText(
      'after',
      `\nExamples:\n  $ trellis run examples/refund.json --input '{"orderId":"A1"}' --wait\n  $ trellis run --goal "Refund order A1 if it arrived damaged" --review --wait`,
    )
    .action(async (file: string | undefined, opts: RunOpts) => {
      if ((file === undefined) === (opts.goal === undefined)) throw new UsageError('give a spec FILE or --goal GOAL (one of them)');
      if (opts.review && opts.goal === undefined) throw new UsageError('--review plans need --goal: a fixed spec has nothing to review');
      if (opts.goal !== undefined) checkGoalFlags(opts.goal, opts);
      const budget = parseBudget(opts);
      const input = await parseInput(opts.input);
      const common = { ...(opts.id !== undefined && { id: opts.id }), ...(budget && { budget }) };
      let start: (client: TrellisClient) => Promise<{ runId: string }>;
      if (opts.goal !== undefined) {
        const goal = opts.goal;
        start = (client) => client.startGoal(goal, { ...common, ...(input !== undefined && { input }), ...(opts.review && { review: true }) });
      } else {
        const { result: valid, tools } = await validateFile(file!, opts.tools, opts.specs);
        if (!valid.ok) {
          printProblems(valid.problems);
          process.exitCode = EXIT.failed;
          return;
        }
        // The client checks the input too, once connected: checked here, a bad input is reported without Temporal.
        const badInput = inputProblems(valid.spec.input, input ?? null);
        if (badInput.length > 0) throw new WorkFailed(badInput.map(formatProblem).join('\n'));
        start = (client) => client.start(valid.spec, { input, ...common, ...(tools ? { tools } : {}) });
      }
      await withClient(async (client) => {
        const { runId } = await start(client);
        if (!opts.wait) {
          const hint = opts.review ? `; approve its plan with: trellis approve ${runId} plan` : '';
          process.stdout.write(opts.json ? `${JSON.stringify({ runId, status: 'running', output: null })}\n` : `started ${runId}${hint}\n`);
          return;
        }
        if (!opts.json) process.stdout.write(`started ${runId}; waiting for it to end\n`);
        try {
          const result = await client.result(runId);
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ runId, status: 'completed', output: result.output })}\n`
              : `completed\n${JSON.stringify(result.output, null, 2)}\n`,
          );
        } catch (e) {
          if (!(e instanceof TrellisRunError)) throw e;
          const { status } = e.run;
          if (opts.json) {
            process.stdout.write(`${JSON.stringify({ runId, status, output: null, error: e.message, code: e.code })}\n`);
            process.exitCode = exitFor(status);
            return;
          }
          throw new WorkFailed(`${status}: ${e.message}`);
        }
      });
    });
}

/** A goal run plans with the worker's tools and saved specs: the flags that check a FILE have nothing to check. */
function checkGoalFlags(goal: string, opts: RunOpts): void {
  requireGoal(goal, '--goal');
  const fileOnly = [opts.tools !== undefined && '--tools', opts.specs !== undefined && '--specs'].filter((f) => f !== false);
  if (fileOnly.length === 0) return;
  throw new UsageError(
    `${fileOnly.join(' and ')} ${fileOnly.length > 1 ? 'are' : 'is'} for a spec FILE, checked before it starts; a goal run uses the worker's tools and saved specs (\`trellis worker --tools MODULE --specs DIR\`): leave ${fileOnly.length > 1 ? 'them' : 'it'} out`,
  );
}

function parseBudget(opts: RunOpts): Budget | undefined {
  const count = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number above 0, got ${JSON.stringify(text)}`);
    return n;
  };
  const maxTokens = count('--max-tokens', opts.maxTokens);
  const maxSteps = count('--max-steps', opts.maxSteps);
  const maxCost = opts.maxCost === undefined ? undefined : Number(opts.maxCost);
  if (maxCost !== undefined && !(Number.isFinite(maxCost) && maxCost > 0))
    throw new UsageError(`--max-cost must be a number of USD above 0, got ${JSON.stringify(opts.maxCost)}`);
  if (maxTokens === undefined && maxSteps === undefined && maxCost === undefined) return undefined;
  return { ...(maxTokens !== undefined && { maxTokens }), ...(maxCost !== undefined && { maxCost }), ...(maxSteps !== undefined && { maxSteps }) };
}
