/**
 * Runs an eval suite: for each case the planner writes a spec for the goal (the same planSpec as `trellis plan`),
 * the checks read it, and a case that expects an output runs its plan on Temporal and compares the result.
 *
 * Cases run one after another, never at once: a real model endpoint has rate limits (parallel cases would turn
 * them into failures that say nothing about the prompts), token use and latency stay those of one case, and a
 * person watching a terminal sees each case finish in order.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import type { TrellisClient } from '../client/client.js';
import { TrellisRunError } from '../client/errors.js';
import { slug } from '../client/run-id.js';
import type { TokenUsage } from '../engine/state.js';
import { addCost, costOf, type PriceTable } from '../pricing/cost.js';
import { isSetupError } from '../llm/errors.js';
import type { PlannerSchema } from '../planner/config.js';
import { planSpec, type PlannerUsage, type PlanProgress } from '../planner/plan.js';
import type { ToolCatalog } from '../spec/catalog.js';
import { formatProblem } from '../spec/problems.js';
import type { Spec } from '../spec/schema.js';
import { casePassed, checkOutput, checkPlan, type CaseRecord, type PlanOutcome, type RunOutcome } from './check.js';
import type { EvalCase } from './suite.js';
import { TrellisError } from '../errors.js';

/** Runs a planned spec and gives its output; the eval's only dependency on Temporal. */
export interface SpecRunner {
  /** Runs the spec with the case's input; a run that fails or is refused is an outcome with its message, not a throw. */
  run(spec: Spec, input: unknown, caseName: string): Promise<RunOutcome>;
}

/** How runSuite plans and runs: the model client, the tools, the planner's settings, and a runner for output checks. */
export interface EvalOptions {
  /** The OpenAI-compatible client the planner calls. */
  llm: OpenAI;
  /** The model the planner calls. */
  model: string;
  /** The tools plans may use (toolCatalog of the suite's tools module). */
  catalog: ToolCatalog;
  /** Planner model calls per case, repairs included. Default 3. */
  maxAttempts?: number;
  /** The planner prompt template; default prompts/planner.md. */
  prompt?: string;
  /** The planner's response schema; default outline. */
  schema?: PlannerSchema;
  /** Needed when a case expects an output. */
  runner?: SpecRunner;
  /** Called as each case ends, in order. */
  onCase?: (record: CaseRecord, index: number, total: number) => void;
  /** Prices by model: each case's cost (the planner's tokens, as `model`, and its run's). Without it, no cost. */
  prices?: PriceTable;
  /** Hears what the suite does before each case ends: the case starts, its planner's steps, its plan's run starts. */
  onProgress?: (progress: EvalProgress) => void;
}

/** What runSuite is doing: case `index` (from 0) of `total` starts, its planner calls or checks, its plan starts running. */
export type EvalProgress =
  | { type: 'case.started'; case: string; index: number; total: number }
  | { type: 'plan'; case: string; progress: PlanProgress }
  | { type: 'run.started'; case: string };

/**
 * A setup error stopped the suite: the model endpoint cannot be reached, or refuses the key or the model (a connection
 * error, 401, 403, 404). `code` is EVAL_SETUP, `cause` the client's error, and `records` the cases that finished before it.
 */
export class SuiteStopped extends TrellisError {
  constructor(
    readonly records: CaseRecord[],
    override readonly cause: unknown,
  ) {
    super('EVAL_SETUP', (cause as Error)?.message ?? String(cause), { cause });
  }
}

/**
 * Runs the cases in order. A model endpoint that cannot be reached or refuses the credentials or the model
 * (a connection error, 401, 403, 404) stops the suite with SuiteStopped: no further case could pass, and that
 * is a setup problem, not a regression. Any other model error (a 500, say) fails the case it happened in.
 * `onCase` hears of each case as it ends.
 *
 * @example
 * ```ts
 * const parsed = parseSuite(await readFile('support.yaml', 'utf8'), 'support.yaml');
 * if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
 * const records = await runSuite(parsed.suite.cases, { llm: new OpenAI(), model: 'gpt-4o-mini', catalog: toolCatalog(tools) });
 * console.log(`${renderTable(records)}\n${summaryLine(records)}`);
 * ```
 */
export async function runSuite(cases: readonly EvalCase[], options: EvalOptions): Promise<CaseRecord[]> {
  const records: CaseRecord[] = [];
  for (const [i, c] of cases.entries()) {
    let record: CaseRecord;
    options.onProgress?.({ type: 'case.started', case: c.name, index: i, total: cases.length });
    try {
      record = await runCase(c, options);
    } catch (e) {
      if (isSetupError(e)) throw new SuiteStopped(records, e);
      throw e;
    }
    records.push(record);
    options.onCase?.(record, i, cases.length);
  }
  return records;
}

/**
 * Plans one case, checks the plan, and runs it with `options.runner` when the case expects an output. A model
 * endpoint error other than a setup error fails the case instead of throwing. Throws the setup error itself (runSuite
 * wraps it in SuiteStopped), and an Error when the case expects an output and there is no runner.
 */
export async function runCase(c: EvalCase, options: EvalOptions): Promise<CaseRecord> {
  const started = performance.now();
  // Filled in as the planner calls the model, so a call that throws still reports the tries and tokens before it.
  const usage: PlannerUsage = { calls: 0, tokens: { prompt: 0, completion: 0, total: 0 } };
  let attempts: number;
  let tokens: TokenUsage;
  let plan: PlanOutcome;
  try {
    const result = await planSpec(options.llm, {
      usage,
      goal: c.goal,
      catalog: options.catalog,
      model: options.model,
      ...(c.input !== undefined && { input: c.input }),
      ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
      ...(options.prompt !== undefined && { prompt: options.prompt }),
      ...(options.schema !== undefined && { schema: options.schema }),
      ...(options.onProgress && { onProgress: (progress: PlanProgress) => options.onProgress!({ type: 'plan', case: c.name, progress }) }),
    });
    attempts = result.attempts;
    tokens = result.tokens;
    plan = result.ok
      ? { ok: true, spec: result.spec }
      : {
          ok: false,
          message: `no valid spec after ${result.attempts} attempt(s): ${result.problems[0] ? formatProblem(result.problems[0]) : 'no problems reported'}${result.problems.length > 1 ? ` (and ${result.problems.length - 1} more)` : ''}`,
        };
  } catch (e) {
    if (isSetupError(e)) throw e;
    if (!(e instanceof OpenAI.APIError)) throw e;
    ({ calls: attempts, tokens } = usage);
    plan = { ok: false, message: `the model endpoint failed: ${e.message}`, endpointFailed: true };
  }

  const planned = checkPlan(c, plan);
  const checks = { ...planned.checks };
  const failures = [...planned.failures];
  let run: RunOutcome | undefined;
  if (planned.run && plan.ok) {
    if (!options.runner) throw new Error(`case "${c.name}" expects an output, and the eval has no way to run a spec`);
    options.onProgress?.({ type: 'run.started', case: c.name });
    run = await options.runner.run(plan.spec, c.input, c.name);
    const out = checkOutput(c.expect?.output, run);
    checks.output = out.status;
    failures.push(...out.failures);
  }
  const passed = casePassed(checks);
  const cost = options.prices && addCost(costOf(options.prices, options.model, tokens), run?.cost);
  return {
    name: c.name,
    passed,
    checks,
    attempts,
    tokens,
    ...(cost && { cost }),
    steps: planned.steps,
    toolsUsed: planned.toolsUsed,
    ms: Math.round(performance.now() - started),
    failure: failures[0] ?? null,
    failures,
    ...(run?.runId !== undefined && { runId: run.runId }),
    ...(run?.ok && { output: run.output }),
  };
}

/** How temporalRunner starts and waits for runs. */
export interface TemporalRunnerOptions {
  /** With a catalog, starting a run also checks tools and types (as `trellis run --tools` does). */
  catalog?: ToolCatalog;
  /** How long a run may take; then it is cancelled and the output check fails. */
  timeoutMs: number;
  /** How the timeout reads in messages ("5m"). */
  timeoutText?: string;
}

/**
 * Runs each spec on Temporal through the typed client, on the client's task queue: a worker with the same
 * tools must be polling it. A run that waits for a person, or that no worker picks up, is cancelled at the
 * timeout, so an eval never hangs.
 *
 * @example
 * ```ts
 * const runner = temporalRunner(await TrellisClient.connect(), { catalog, timeoutMs: 300_000, timeoutText: '5m' });
 * const records = await runSuite(cases, { llm, model, catalog, runner });
 * ```
 */
export function temporalRunner(client: TrellisClient, options: TemporalRunnerOptions): SpecRunner {
  const limit = options.timeoutText ?? `${options.timeoutMs} ms`;
  return {
    async run(spec, input, caseName) {
      let runId: string;
      try {
        ({ runId } = await client.start(spec, {
          id: `eval-${slug(caseName)}-${randomUUID().slice(0, 8)}`,
          ...(input !== undefined && { input }),
          ...(options.catalog && { tools: options.catalog }),
        }));
      } catch (e) {
        return { ok: false, message: `the run was refused: ${(e as Error).message.replace(/\n/g, '; ')}` };
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs)));
      const result = client.result(runId);
      result.catch(() => {}); // settled below, or abandoned at the timeout
      try {
        const ended = await Promise.race([result, timedOut]);
        if (ended === 'timeout') {
          const view = await client.status(runId).catch(() => undefined);
          await client.cancel(runId).catch(() => {});
          const why =
            view && view.pending.length > 0
              ? `it waits for a person: ${view.pending.map((p) => `"${p.step}"`).join(', ')}`
              : `status ${view?.status ?? 'unknown'}: is a worker with the same tools polling task queue "${client.config.taskQueue}"?`;
          return { ok: false, runId, message: `the run ${runId} did not end within ${limit} (${why}); it was cancelled` };
        }
        return { ok: true, runId, output: ended.output, ...(ended.cost && { cost: ended.cost }) };
      } catch (e) {
        const cost = e instanceof TrellisRunError ? e.run.usage?.cost : undefined;
        return { ok: false, runId, message: `the run ${runId} failed: ${(e as Error).message}`, ...(cost && { cost }) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
