import { constants } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { catalogOf, type ToolCatalog } from '../../spec/catalog.js';
import type { PlanProgress } from '../../planner/plan.js';
import type { Problem } from '../../spec/problems.js';
import { parseInput } from '../client.js';
import {
  EXIT,
  loadCatalog,
  parseAttempts,
  plannerConfig,
  plannerSchemaOption,
  printProblems,
  problemJson,
  readPromptFile,
  requireGoal,
  UsageError,
} from '../io.js';

interface PlanOpts {
  tools?: string;
  out?: string;
  json?: boolean;
  input?: string;
  attempts: string;
  prompt?: string;
  schema?: string;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('the model writes a spec for GOAL from the tools catalog; validated (with the type check) and repaired up to --attempts')
    .argument('<goal>', 'what the workflow should do')
    .option('--tools <module>', 'the tools module whose catalog the model may use')
    .option('--out <file>', 'write the spec here instead of printing it')
    .option('--json', 'print { "ok", "spec", "attempts", "tokens", "problems" } (and "error" when the model call or the write failed)')
    .option('--input <json>', 'the run input the spec will get, as JSON text or @file.json')
    .option('--attempts <n>', 'model calls in all, repairs included (at most 10)', '3')
    .option(
      '--prompt <file>',
      'the planner prompt ({{catalog}} is replaced by the catalog); default: TRELLIS_PLANNER_PROMPT, else prompts/planner.md',
    )
    .option('--schema <form>', 'the response schema sent to the model: outline or full; default: TRELLIS_PLANNER_SCHEMA, else outline')
    .addHelpText(
      'after',
      '\nExample:\n  $ OPENAI_BASE_URL=http://127.0.0.1:8787/v1 trellis plan "Refund order A-1004 if it arrived damaged" --tools examples/tools.ts --out refund.json',
    )
    .action(planCommand);
}

async function planCommand(goal: string, opts: PlanOpts): Promise<void> {
  requireGoal(goal, 'GOAL');
  const maxAttempts = parseAttempts(opts.attempts);
  const env = plannerConfig();
  const schema = opts.schema === undefined ? env.schema : plannerSchemaOption(opts.schema, '--schema');
  const promptFile = opts.prompt ?? env.promptFile;
  const [{ planSpec }, { createLlmClient }, { modelConfig, modelFailure }] = await Promise.all([
    import('../../planner/index.js'),
    import('../../llm/client.js'),
    import('../model.js'),
  ]);
  const config = modelConfig();
  const [catalog, input, prompt] = await Promise.all([
    loadCatalog(opts.tools),
    parseInput(opts.input),
    promptFile === undefined ? undefined : readPromptFile(promptFile),
    opts.out === undefined ? undefined : checkOutFile(opts.out),
  ]);
  const usage = { calls: 0, tokens: { prompt: 0, completion: 0, total: 0 } };
  let result: PlanResult;
  // Progress goes to stderr, so the spec (or --json) on stdout stays what a script reads.
  process.stderr.write(`planning with ${config.model}\n`);
  try {
    result = await planSpec(createLlmClient(config), {
      usage,
      onProgress: (p) => process.stderr.write(`  ${planProgressLine(p)}\n`),
      goal,
      catalog: catalog ?? catalogOf([]),
      model: config.model,
      maxAttempts,
      ...(input !== undefined && { input }),
      ...(prompt !== undefined && { prompt }),
      ...(schema !== undefined && { schema }),
    });
  } catch (e) {
    const failure = modelFailure(e, config);
    if (failure === undefined) throw e;
    const { calls, tokens } = usage;
    if (opts.json) printJson({ ok: false, spec: null, attempts: calls, tokens, problems: [], error: failure.message });
    process.stderr.write(`trellis: ${failure.message}\n`);
    process.exitCode = failure.exit;
    return;
  }
  if (result.ok) await deliver(result, opts);
  else reportInvalid(result, catalog, opts);
}

type PlanResult = Awaited<ReturnType<typeof import('../../planner/index.js').planSpec>>; // a type: the planner still loads lazily

/** `model call 2 of 3 (a repair)`, `call 2: a valid spec (1840 tokens so far)`: what the planner is doing, for stderr. */
export function planProgressLine(p: PlanProgress): string {
  if (p.type === 'asking') return `model call ${p.attempt} of ${p.maxAttempts}${p.attempt > 1 ? ' (a repair)' : ''}`;
  const tokens = `${p.tokens.total} tokens so far`;
  if (p.problems === 0) return `call ${p.attempt}: a valid spec (${tokens})`;
  const next = p.attempt < p.maxAttempts ? '; asking for a repair' : '; no attempts left';
  return `call ${p.attempt}: ${p.problems} problem${p.problems === 1 ? '' : 's'} in the reply${next} (${tokens})`;
}

/** No valid spec within the budget: the last problems, and exit 1. */
function reportInvalid(result: Extract<PlanResult, { ok: false }>, catalog: ToolCatalog | undefined, opts: PlanOpts): void {
  // The hint is for the person: the model cannot name a tools module.
  const problems = catalog === undefined ? result.problems.map(withCatalogHint) : result.problems;
  if (opts.json) printJson({ ok: false, spec: null, attempts: result.attempts, tokens: result.tokens, problems: problems.map(problemJson) });
  else {
    process.stderr.write(`trellis: no valid spec after ${result.attempts} attempt(s); the last problems:\n`);
    printProblems(problems);
  }
  process.exitCode = EXIT.failed;
}

/** A valid spec: printed, or written to --out (and printed when the write fails: planning is paid for). */
async function deliver(result: Extract<PlanResult, { ok: true }>, opts: PlanOpts): Promise<void> {
  const text = `${JSON.stringify(result.spec, null, 2)}\n`;
  const report = { ok: true, spec: result.spec, attempts: result.attempts, tokens: result.tokens, problems: [] };
  if (opts.out === undefined) {
    if (opts.json) printJson(report);
    else process.stdout.write(text);
    return;
  }
  try {
    // A spec library folder (specs/ by default) may not exist yet.
    await mkdir(dirname(opts.out), { recursive: true });
    await writeFile(opts.out, text);
  } catch (e) {
    const error = `cannot write ${opts.out}: ${(e as Error).message}`;
    process.stderr.write(`trellis: ${error}; the spec is on stdout\n`);
    if (opts.json) printJson({ ...report, error });
    else process.stdout.write(text);
    process.exitCode = EXIT.failed;
    return;
  }
  if (opts.json) printJson(report);
  else process.stderr.write(`wrote ${opts.out}: a valid spec after ${result.attempts} attempt(s), ${result.tokens.total} tokens\n`);
}

function printJson(report: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

/** The hint `trellis eval` gives too, for a plan written against an empty catalog. */
function withCatalogHint(p: Problem): Problem {
  return p.code === 'UNKNOWN_TOOL' ? { ...p, message: `${p.message} (the catalog is empty: name a tools module with --tools)` } : p;
}

/**
 * --out, checked before the model is called: not a folder, and in a place where the file can be made (the
 * folders missing above it are made after planning).
 */
async function checkOutFile(file: string): Promise<void> {
  const refuse = (why: string) => new UsageError(`--out ${file}: ${why}`);
  const missing = (e: unknown) => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');
  let path = resolve(file);
  for (;;) {
    let found;
    try {
      found = await stat(path);
    } catch (e) {
      if (!missing(e)) throw refuse((e as Error).message);
      path = dirname(path);
      continue;
    }
    if (path === resolve(file)) {
      if (found.isDirectory()) throw refuse(`it is a directory; name a file in it, such as ${join(file, 'NAME.json')}`);
      return access(path, constants.W_OK).catch(() => {
        throw refuse('the file is not writable');
      });
    }
    if (!found.isDirectory()) throw refuse(`${path} is a file, not a directory`);
    return access(path, constants.W_OK | constants.X_OK).catch(() => {
      throw refuse(`cannot create files in ${path}`);
    });
  }
}
