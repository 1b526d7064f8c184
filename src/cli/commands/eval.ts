import path from 'node:path';
import type { Command } from 'commander';
import { catalogOf } from '../../spec/catalog.js';
import { parseDuration } from '../../spec/duration.js';
import { withClient } from '../client.js';
import { EXIT, loadCatalog, plannerConfig, plannerSchemaOption, readSpecFile, UsageError } from '../io.js';

interface EvalOpts {
  tools?: string;
  json?: boolean;
  case?: string[];
  attempts: string;
  runTimeout: string;
  prompt?: string;
  schema?: string;
}

const HELP = `
A suite (YAML or JSON):

  name: support
  tools: ./tools.ts              # optional, relative to the suite file; --tools overrides it
  cases:
    - name: refund-damaged
      goal: Refund order A1 if the customer says it arrived damaged
      input: { orderId: A1 }     # optional: shown to the planner, given to the run
      expect:
        valid: true              # default true: a valid spec within the repair budget (false: none)
        tools: [lookup_order, refund_order]  # the plan uses at least these (tool steps, agent tools, map tool sub-steps)
        notTools: [delete_account]           # ... and none of these
        maxSteps: 5              # at most this many top-level steps
        output: { refunded: true }  # RUN the plan on Temporal; its output must contain this (objects: a
                                    # subset of keys; lists and scalars: equal)

Each case: the planner writes a spec for the goal (as \`trellis plan\` does, model from OPENAI_BASE_URL,
OPENAI_API_KEY, TRELLIS_MODEL), then the checks read it. A case with \`output\` starts its plan on the
workers of TRELLIS_TASK_QUEUE (at TEMPORAL_ADDRESS), as \`trellis run\` does: a worker with the same tools
must be running (\`trellis worker --tools MODULE\`). A run that has not ended after --run-timeout (one that
waits for a person, say) is cancelled, and its case fails.

Cases run one after another: a real endpoint's rate limits would otherwise fail cases for reasons that say
nothing about the prompts, and each case's tokens and time stay its own.

Exit codes: 0 every case passed; 1 an expectation failed (a regression); 2 a bad suite file, no model
endpoint, or no Temporal connection when a case needs to run.

Example:
  $ trellis mock-llm --script examples/evals/mock-llm.json     # prints its URL
  $ export OPENAI_BASE_URL=<that URL>                          # the planner's model, and the worker's
  $ trellis worker --tools examples/tools.ts &                 # for the cases that run their plan
  $ trellis eval examples/evals/support.yaml --case damage-check research-brief`;

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('run a suite of goals against the planner (and Temporal, for expected outputs); a table of results; exit 1 on a regression')
    .argument('<suite>', 'the suite file (YAML or JSON)')
    .option('--tools <module>', "the tools module (default: the suite's own tools, relative to the suite file)")
    .option('--case <name...>', 'run only these cases (after SUITE, or repeated: --case a --case b)')
    .option('--json', 'print { "suite", "model", "passed", "failed", "cases": [per-case records] }')
    .option('--attempts <n>', 'planner model calls per case, repairs included', '3')
    .option('--run-timeout <duration>', 'how long a run may take before it is cancelled and its case fails', '5m')
    .option('--prompt <file>', 'the planner prompt to evaluate; default: TRELLIS_PLANNER_PROMPT, else prompts/planner.md')
    .option('--schema <form>', "the planner's response schema: outline or full; default: TRELLIS_PLANNER_SCHEMA, else outline")
    .addHelpText('after', HELP)
    .action(async (file: string, opts: EvalOpts) => {
      const maxAttempts = Number(opts.attempts);
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new UsageError(`--attempts must be a positive whole number, got ${opts.attempts}`);
      const timeoutMs = parseDuration(opts.runTimeout);
      if (timeoutMs === undefined) throw new UsageError(`--run-timeout: invalid duration "${opts.runTimeout}" (30s, 5m, 1h)`);
      const env = plannerConfig();
      const schema = opts.schema === undefined ? env.schema : plannerSchemaOption(opts.schema, '--schema');
      const promptFile = opts.prompt ?? env.promptFile;
      const prompt = promptFile === undefined ? undefined : await readSpecFile(promptFile);

      const { parseSuite, checkSuiteTools } = await import('../../evals/suite.js');
      const parsed = parseSuite(await readSpecFile(file), file);
      if (!parsed.ok) throw new UsageError(`invalid suite ${file}:\n${parsed.problems.join('\n')}`);
      const suite = parsed.suite;
      let cases = suite.cases;
      if (opts.case !== undefined) {
        const unknown = opts.case.filter((name) => !suite.cases.some((c) => c.name === name));
        if (unknown.length > 0)
          throw new UsageError(
            `no case named ${unknown.map((n) => `"${n}"`).join(', ')} in ${file}; its cases: ${suite.cases.map((c) => c.name).join(', ')}`,
          );
        cases = suite.cases.filter((c) => opts.case!.includes(c.name));
      }
      const toolsModule = opts.tools ?? (suite.tools === undefined ? undefined : path.resolve(path.dirname(file), suite.tools));
      const catalog = (await loadCatalog(toolsModule)) ?? catalogOf([]);
      const unknownTools = checkSuiteTools({ ...suite, cases }, catalog);
      if (unknownTools.length > 0) throw new UsageError(`invalid suite ${file}:\n${unknownTools.join('\n')}`);

      const [{ runSuite, temporalRunner, isSetupError }, { renderTable, summaryLine }, { createLlmClient, llmConfigFromEnv }, { default: OpenAI }] =
        await Promise.all([import('../../evals/run.js'), import('../../evals/table.js'), import('../../llm/client.js'), import('openai')]);
      const config = llmConfigFromEnv();
      const where = config.baseURL ?? 'the OpenAI API';
      const run = async (runner?: import('../../evals/run.js').SpecRunner) => {
        try {
          return await runSuite(cases, {
            llm: createLlmClient(config),
            model: config.model,
            catalog,
            maxAttempts,
            ...(prompt !== undefined && { prompt }),
            ...(schema !== undefined && { schema }),
            ...(runner && { runner }),
            onCase: (r, i, total) =>
              process.stderr.write(
                `[${i + 1}/${total}] ${r.name}: ${r.passed ? 'passed' : `FAILED: ${r.failure}`} (${(r.ms / 1000).toFixed(1)} s)\n`,
              ),
          });
        } catch (e) {
          if (e instanceof OpenAI.APIConnectionError) throw new UsageError(`cannot reach the model at ${where}: ${e.message}; set OPENAI_BASE_URL`);
          if (isSetupError(e)) throw new UsageError(`the model endpoint at ${where} refused the call: ${(e as Error).message}`);
          throw e;
        }
      };
      // Connect before the first model call when a case will run: no Temporal is a setup problem (exit 2),
      // found before any token is spent.
      const needsRun = cases.some((c) => c.expect?.output !== undefined);
      const records = needsRun
        ? await withClient((client) => run(temporalRunner(client, { catalog, timeoutMs, timeoutText: opts.runTimeout })))
        : await run();

      const passed = records.filter((r) => r.passed).length;
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ suite: suite.name, model: config.model, passed, failed: records.length - passed, cases: records }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(`${suite.name}: ${cases.length} case(s), model ${config.model}\n\n${renderTable(records)}\n\n${summaryLine(records)}\n`);
      }
      process.exitCode = passed === records.length ? EXIT.ok : EXIT.failed;
    });
}
