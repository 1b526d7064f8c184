import path from 'node:path';
import type { Command } from 'commander';
import { catalogOf } from '../../spec/catalog.js';
import { parseDuration } from '../../spec/duration.js';
import type { CaseRecord } from '../../evals/check.js';
import type { EvalProgress } from '../../evals/run.js';
import { planProgressLine } from './plan.js';
import { withClient } from '../client.js';
import {
  asUsageError,
  EXIT,
  loadCatalog,
  parseAttempts,
  plannerConfig,
  plannerSchemaOption,
  readPromptFile,
  readSpecFile,
  UsageError,
} from '../io.js';
import { pricesFromEnv } from '../../pricing/config.js';

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
endpoint (unreachable, or a 401, 403 or 404: the cases that finished before it are still shown), or no
Temporal connection when a case needs to run.

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
    .option('--json', 'print { "suite", "model", "passed", "failed", "cases": [per-case records] } (and "error" when the endpoint stopped the suite)')
    .option('--attempts <n>', 'planner model calls per case, repairs included (at most 10)', '3')
    .option('--run-timeout <duration>', 'how long a run may take before it is cancelled and its case fails', '5m')
    .option(
      '--prompt <file>',
      'the planner prompt to evaluate ({{catalog}} is replaced by the catalog); default: TRELLIS_PLANNER_PROMPT, else prompts/planner.md',
    )
    .option('--schema <form>', "the planner's response schema: outline or full; default: TRELLIS_PLANNER_SCHEMA, else outline")
    .addHelpText('after', HELP)
    .action(evalCommand);
}

async function evalCommand(file: string, opts: EvalOpts): Promise<void> {
  const maxAttempts = parseAttempts(opts.attempts);
  const timeoutMs = parseDuration(opts.runTimeout);
  if (timeoutMs === undefined) throw new UsageError(`--run-timeout: invalid duration "${opts.runTimeout}" (30s, 5m, 1h)`);
  const env = plannerConfig();
  const schema = opts.schema === undefined ? env.schema : plannerSchemaOption(opts.schema, '--schema');
  const promptFile = opts.prompt ?? env.promptFile;
  const prompt = promptFile === undefined ? undefined : await readPromptFile(promptFile);
  const [{ runSuite, temporalRunner, SuiteStopped }, { createLlmClient }, { modelConfig, modelFailure }] = await Promise.all([
    import('../../evals/run.js'),
    import('../../llm/client.js'),
    import('../model.js'),
  ]);
  const config = modelConfig();
  const { suite, cases, catalog } = await loadCases(file, opts);

  // The cases that finished, and what stopped the suite (no model endpoint) if something did.
  const run = async (runner?: import('../../evals/run.js').SpecRunner) => {
    try {
      const records = await runSuite(cases, {
        llm: createLlmClient(config),
        model: config.model,
        prices: asUsageError(() => pricesFromEnv()),
        catalog,
        maxAttempts,
        ...(prompt !== undefined && { prompt }),
        ...(schema !== undefined && { schema }),
        ...(runner && { runner }),
        onProgress: (p) => process.stderr.write(`${evalProgressLine(p, cases.length)}\n`),
        onCase: (r, i, total) =>
          process.stderr.write(`[${i + 1}/${total}] ${r.name}: ${r.passed ? 'passed' : `FAILED: ${r.failure}`} (${(r.ms / 1000).toFixed(1)} s)\n`),
      });
      return { records };
    } catch (e) {
      if (!(e instanceof SuiteStopped)) throw e;
      return { records: e.records, stopped: modelFailure(e.cause, config)! };
    }
  };
  // Connect before the first model call when a case will run: no Temporal is a setup problem (exit 2),
  // found before any token is spent.
  const needsRun = cases.some((c) => c.expect?.output !== undefined);
  const { records, stopped } = needsRun
    ? await withClient((client) => run(temporalRunner(client, { catalog, timeoutMs, timeoutText: opts.runTimeout })))
    : await run();
  await report({ suite: suite.name, cases: cases.length, model: config.model, records, stopped }, opts);
}

/** `[1/3] damage-check: planning`, then the planner's steps, then `running its plan on Temporal`; for stderr. */
function evalProgressLine(p: EvalProgress, total: number): string {
  if (p.type === 'plan') return `  ${p.case}: ${planProgressLine(p.progress)}`;
  if (p.type === 'run.started') return `  ${p.case}: running its plan on Temporal`;
  return `[${p.index + 1}/${total}] ${p.case}: planning`;
}

/** The suite, the cases asked for (--case), and the catalog (--tools, else the suite's): every problem is bad usage. */
async function loadCases(file: string, opts: EvalOpts) {
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
  return { suite, cases, catalog };
}

/** The table (or --json), and the exit code: 0 all passed, 1 a regression, the endpoint's when it stopped the suite. */
async function report(
  r: { suite: string; cases: number; model: string; records: CaseRecord[]; stopped: { message: string; exit: number } | undefined },
  opts: EvalOpts,
): Promise<void> {
  const { costLine, renderTable, summaryLine } = await import('../../evals/table.js');
  const { records, stopped } = r;
  const passed = records.filter((c) => c.passed).length;
  if (opts.json) {
    const json = { suite: r.suite, model: r.model, passed, failed: records.length - passed, cases: records };
    process.stdout.write(`${JSON.stringify(stopped ? { ...json, error: stopped.message } : json, null, 2)}\n`);
  } else if (records.length > 0 || !stopped) {
    // Stopped midway, the table shows the cases that finished: their results are real.
    const done = stopped ? `, ${records.length} finished before the model endpoint stopped the suite` : '';
    const cost = costLine(records);
    process.stdout.write(
      `${r.suite}: ${r.cases} case(s)${done}, model ${r.model}\n\n${renderTable(records)}\n\n${cost ? `${cost}\n` : ''}${summaryLine(records)}\n`,
    );
  }
  if (stopped) {
    process.stderr.write(`trellis: ${stopped.message}\n`);
    process.exitCode = stopped.exit;
    return;
  }
  process.exitCode = passed === records.length ? EXIT.ok : EXIT.failed;
}
