/**
 * The validator: every problem in a spec at once, each with a path and a message, sorted by path. It runs
 * before any side effect (the CLI, the client's start, the planner's repair loop) and never throws on
 * bad input.
 */
import type { ToolCatalog } from '../catalog.js';
import { callCycleProblems } from '../call-cycles.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { parseSpecText, type SpecFormat } from '../parse.js';
import { compareProblems, type Problem } from '../problems.js';
import type { CallStep, Spec } from '../schema.js';
import { checkSchema } from '../schema-check.js';
import { outputSites, stepSites } from '../sites.js';
import type { SpecLibrary } from '../uses.js';
import { checkCycles, dedupe, isObject, type Context } from './context.js';
import { checkSite } from './expressions.js';
import { checkShape, collectIds } from './shape.js';
import { checkSize } from './size.js';
import { checkJsonSchema, checkStep } from './step.js';

/** What a spec is checked against besides itself. Without any option it is checked alone: tools and saved specs unknown. */
export interface ValidateOptions {
  /** With a catalog, unknown tools are problems and tool args and outputs are type-checked. */
  tools?: ToolCatalog;
  /**
   * Saved specs by name: with it, a call step's spec must be there, its literal input is type-checked, and no call
   * may lead back to a spec it came from.
   */
  specs?: SpecLibrary;
  /** The spec's own name in `specs` when it is a saved spec (this version stands for the library's copy). */
  savedAs?: string;
  /** Size limits, each on its own. Default DEFAULT_LIMITS: 1,000 steps, 1 MiB. */
  limits?: Partial<Limits>;
}

/** The verdict: `ok` with the document typed as a Spec, or every problem (at least one), sorted by path. */
export type ValidationResult = { ok: true; spec: Spec; problems: [] } | { ok: false; problems: Problem[] };

/**
 * Validates spec text, JSON or YAML (`format`, else as detectFormat reads `filename` and the text). A syntax error is
 * a SYNTAX problem with a line and column; a text over `limits.maxBytes` is refused (TOO_LARGE) before it is parsed.
 * Never throws on bad input: every problem is in the result.
 *
 * @example
 * ```ts
 * const result = validateSpecText(await readFile('refund.yaml', 'utf8'), { filename: 'refund.yaml', tools: toolCatalog(tools) });
 * if (!result.ok) console.error(result.problems.map(formatProblem).join('\n'));
 * ```
 */
export function validateSpecText(text: string, options: ValidateOptions & { format?: SpecFormat; filename?: string } = {}): ValidationResult {
  const parsed = parseSpecText(text, options);
  if (!parsed.ok) return { ok: false, problems: [...parsed.problems].sort(compareProblems) };
  return validateSpec(parsed.value, { ...options, bytes: parsed.bytes });
}

/**
 * Validates a parsed spec document (from JSON, YAML or code): every problem at once, each with a path, a stable
 * code and a message, sorted by path. With `tools` it also checks tool names, args and outputs against the catalog;
 * with `specs`, the call steps. `bytes` is the document's size as text, when it came from text. Never throws on bad
 * input.
 *
 * @example
 * ```ts
 * const result = validateSpec(JSON.parse(text), { tools: toolCatalog(tools) });
 * if (result.ok) await trellis.start(result.spec);
 * else console.error(result.problems.map(formatProblem).join('\n'));
 * ```
 */
export function validateSpec(doc: unknown, options: ValidateOptions & { bytes?: number } = {}): ValidationResult {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const tooLarge = checkSize(doc, limits, options.bytes);
  if (tooLarge) return { ok: false, problems: [tooLarge] };

  const problems: Problem[] = [];
  const { valid: steps, partial } = checkShape(doc, problems);
  const ids = collectIds(doc, problems);
  const context: Context = {
    ids,
    tools: options.tools,
    specs: options.specs,
    problems,
    steps: new Map(steps.map((s) => [s.step.id, s.step])),
    deps: new Map(),
  };
  if (isObject(doc) && isObject(doc.input)) checkJsonSchema(doc.input, ['input'], problems);
  context.inputSchema = isObject(doc) && isObject(doc.input) && checkSchema(doc.input).length === 0 ? doc.input : undefined;

  for (const { step, index } of steps) checkStep(step, index, context);
  // A step with a shape problem still has its expressions checked, in the fields that are well formed, so one
  // bad duration does not hide a bad reference next to it.
  for (const { step, index } of partial) for (const site of stepSites(step, index)) checkSite(site, step, context);
  if (isObject(doc) && doc.output !== undefined && steps.length > 0) {
    for (const site of outputSites({ output: doc.output } as Spec)) checkSite(site, undefined, context);
  }

  checkCycles(context);
  if (options.specs) {
    const calls = steps.filter((s): s is { step: CallStep; index: number } => s.step.kind === 'call');
    problems.push(...callCycleProblems(calls, options.specs, options.savedAs));
  }
  if (problems.length > 0) return { ok: false, problems: dedupe(problems.sort(compareProblems)) };
  return { ok: true, spec: doc as unknown as Spec, problems: [] };
}
