/**
 * The validator: every problem in a spec at once, each with a path and a message, sorted by path. It runs
 * before any side effect (the CLI, the client's start, the planner's repair loop) and never throws on
 * bad input.
 */
import type { z } from 'zod';
import type { JsonSchema, ToolCatalog } from './catalog.js';
import { compileExpression, ExpressionSyntaxError, SCOPE_VARIABLES, type CompiledExpression } from './expression.js';
import { findCycles, siteExpressions } from './graph.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { parseSpecText, utf8Length, type SpecFormat } from './parse.js';
import { compareProblems, formatPath, problem, type PathSegment, type Problem } from './problems.js';
import { SpecSchema, STEP_ID_PATTERN, STEP_KINDS, STEP_SCHEMAS, RetrySchema, type Spec, type Step } from './schema.js';
import { checkSchema, checkValue, describe, selectField, type FieldLookup } from './schema-check.js';
import { outputSites, stepSites, type ExpressionSite } from './sites.js';
import { closest, didYouMean } from './suggest.js';
import { hasTemplate, TemplateSyntaxError } from './template.js';
import { stepOutputSchema } from './step-output.js';

export interface ValidateOptions {
  /** With a catalog, unknown tools are problems and tool args and outputs are type-checked. */
  tools?: ToolCatalog;
  limits?: Partial<Limits>;
}

export type ValidationResult = { ok: true; spec: Spec; problems: [] } | { ok: false; problems: Problem[] };

/** Validates spec text (JSON or YAML). */
export function validateSpecText(text: string, options: ValidateOptions & { format?: SpecFormat; filename?: string } = {}): ValidationResult {
  const parsed = parseSpecText(text, options);
  if (!parsed.ok) return { ok: false, problems: [...parsed.problems].sort(compareProblems) };
  return validateSpec(parsed.value, { ...options, bytes: parsed.bytes });
}

/** Validates a parsed spec document. */
export function validateSpec(doc: unknown, options: ValidateOptions & { bytes?: number } = {}): ValidationResult {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const tooLarge = checkSize(doc, limits, options.bytes);
  if (tooLarge) return { ok: false, problems: [tooLarge] };

  const problems: Problem[] = [];
  const { valid: steps, partial } = checkShape(doc, problems);
  const ids = collectIds(doc, problems);
  const context: Context = { ids, tools: options.tools, problems, steps: new Map(steps.map((s) => [s.step.id, s.step])), deps: new Map() };
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
  if (problems.length > 0) return { ok: false, problems: dedupe(problems.sort(compareProblems)) };
  return { ok: true, spec: doc as unknown as Spec, problems: [] };
}

interface Context {
  ids: Map<string, number>;
  tools: ToolCatalog | undefined;
  problems: Problem[];
  steps: Map<string, Step>;
  inputSchema?: JsonSchema | undefined;
  /** id -> ids of existing steps it depends on, gathered while checking, for the cycle check. */
  deps: Map<string, string[]>;
}

/** Cycles among the well-shaped steps, each named: `cycle: a -> b -> a`. */
function checkCycles(ctx: Context): void {
  const order = [...ctx.steps.keys()];
  for (const cycle of findCycles(order, ctx.deps)) {
    ctx.problems.push(problem('CYCLE', ['steps', ctx.ids.get(cycle[0]!)!], `cycle: ${cycle.join(' -> ')}`));
  }
}

function addDependency(ctx: Context, from: Step, to: string): void {
  if (to === from.id || !ctx.steps.has(to)) return;
  const list = ctx.deps.get(from.id);
  if (!list) ctx.deps.set(from.id, [to]);
  else if (!list.includes(to)) list.push(to);
}

function checkSize(doc: unknown, limits: Limits, bytes: number | undefined): Problem | undefined {
  const steps = isObject(doc) && Array.isArray(doc.steps) ? doc.steps.length : 0;
  if (steps > limits.maxSteps) {
    return problem('TOO_LARGE', ['steps'], `${steps.toLocaleString('en-US')} steps; the limit is ${limits.maxSteps.toLocaleString('en-US')}`);
  }
  const measured = measure(doc, limits.maxBytes);
  if (measured === 'too deep') return problem('TOO_LARGE', [], `the spec is nested more than ${MAX_DEPTH} levels deep`);
  if (bytes !== undefined && bytes > limits.maxBytes) {
    return problem('TOO_LARGE', [], `the spec is ${bytes.toLocaleString('en-US')} bytes; the limit is ${limits.maxBytes.toLocaleString('en-US')}`);
  }
  if (bytes === undefined && measured > limits.maxBytes) {
    return problem('TOO_LARGE', [], `the spec is over ${limits.maxBytes.toLocaleString('en-US')} bytes as JSON (the limit)`);
  }
  return undefined;
}

const MAX_DEPTH = 200;

/**
 * The document's size as JSON text, counted without building the text and stopping once over the limit; and
 * its depth, checked before anything walks it recursively.
 */
function measure(doc: unknown, maxBytes: number): number | 'too deep' {
  let bytes = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value: doc, depth: 0 }];
  while (stack.length > 0 && bytes <= maxBytes) {
    const { value, depth } = stack.pop()!;
    if (typeof value === 'string') bytes += utf8Length(value) + 2;
    else if (value === null || typeof value !== 'object') bytes += String(value).length;
    else {
      if (depth >= MAX_DEPTH) return 'too deep';
      const entries = Array.isArray(value) ? value.map((v) => ['', v] as const) : Object.entries(value);
      bytes += 2 + Math.max(0, entries.length - 1); // brackets and commas
      for (const [k, v] of entries) {
        if (k) bytes += utf8Length(k) + 3;
        stack.push({ value: v, depth: depth + 1 });
      }
    }
  }
  return bytes;
}

// ---- shape -------------------------------------------------------------------------------------------------

const ROOT_FIELDS_SCHEMA = SpecSchema.omit({ steps: true });

interface ShapedSteps {
  /** Steps whose shape is right. */
  valid: Array<{ step: Step; index: number }>;
  /** Steps of a known kind with shape problems, without the fields that have them. */
  partial: Array<{ step: Step; index: number }>;
}

/** Checks the document's shape. */
function checkShape(doc: unknown, problems: Problem[]): ShapedSteps {
  const none: ShapedSteps = { valid: [], partial: [] };
  if (!isObject(doc)) {
    const got = doc === null || doc === undefined ? 'the document is empty' : `got ${describe(doc)}`;
    problems.push(problem('SHAPE', [], `a spec is an object with version, name and steps; ${got}`));
    return none;
  }
  const { steps, ...rest } = doc;
  const root = ROOT_FIELDS_SCHEMA.safeParse(rest, { reportInput: true });
  if (!root.success) problems.push(...zodProblems(root.error.issues, [], Object.keys(SpecSchema.shape)));
  if (steps === undefined) {
    problems.push(problem('SHAPE', ['steps'], 'missing; a spec needs a list of steps'));
    return none;
  }
  if (!Array.isArray(steps)) {
    problems.push(problem('SHAPE', ['steps'], `expected a list of steps, got ${describe(steps)}`));
    return none;
  }
  if (steps.length === 0) problems.push(problem('SHAPE', ['steps'], 'a spec needs at least one step'));
  const { valid, partial } = none;
  steps.forEach((raw, index) => {
    const path = ['steps', index];
    if (!isObject(raw)) {
      problems.push(problem('SHAPE', path, `a step is an object with id and kind; got ${describe(raw)}`));
      return;
    }
    const kind = raw.kind;
    if (typeof kind !== 'string') {
      problems.push(
        problem(
          'SHAPE',
          [...path, 'kind'],
          `${kind === undefined ? 'missing' : `expected a string, got ${describe(kind)}`}; one of ${STEP_KINDS.join(', ')}`,
        ),
      );
      return;
    }
    const schema = Object.hasOwn(STEP_SCHEMAS, kind) ? STEP_SCHEMAS[kind as keyof typeof STEP_SCHEMAS] : undefined;
    if (!schema) {
      problems.push(
        problem('UNKNOWN_KIND', [...path, 'kind'], `unknown kind "${kind}"${didYouMean(kind, STEP_KINDS)}; one of ${STEP_KINDS.join(', ')}`),
      );
      return;
    }
    const parsed = schema.safeParse(raw, { reportInput: true });
    if (parsed.success) {
      valid.push({ step: parsed.data as Step, index });
      return;
    }
    problems.push(...zodProblems(parsed.error.issues, path, Object.keys(schema.shape)));
    const broken = new Set(parsed.error.issues.map((i) => i.path[0]));
    if (typeof raw.id === 'string' && !broken.has('id')) {
      partial.push({ step: Object.fromEntries(Object.entries(raw).filter(([k]) => !broken.has(k))) as unknown as Step, index });
    }
  });
  return none;
}

/** zod issues as problems: messages that name the field and what was expected. */
function zodProblems(issues: z.core.$ZodIssue[], base: PathSegment[], fields: string[]): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = [...base, ...(issue.path as PathSegment[])];
    const last = path[path.length - 1];
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = issue.path.length === 0 ? fields : issue.path[issue.path.length - 1] === 'retry' ? Object.keys(RetrySchema.shape) : [];
        return issue.keys.map((key) => problem('SHAPE', [...path, key], `unknown field "${key}"${didYouMean(key, known)}`));
      }
      case 'invalid_type':
        return [
          problem(
            'SHAPE',
            path,
            input === undefined ? `missing; expected ${article(issue.expected)}` : `expected ${article(issue.expected)}, got ${describe(input)}`,
          ),
        ];
      case 'invalid_value':
        if (input === undefined) return [problem('SHAPE', path, `missing; expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`)];
        return [problem('SHAPE', path, `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describe(input)}`)];
      case 'invalid_format':
        if (last === 'id' && issue.format === 'regex') {
          return [problem('INVALID_ID', path, `invalid id ${JSON.stringify(input)}: use lower case letters, digits and _, starting with a letter`)];
        }
        return [problem('SHAPE', path, issue.message)];
      case 'too_small':
        if (issue.origin === 'string' && issue.minimum === 1) return [problem('SHAPE', path, 'must not be empty')];
        if (issue.origin === 'array') return [problem('SHAPE', path, `needs at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`)];
        return [problem('SHAPE', path, `must be at least ${issue.minimum}, got ${describe(input)}`)];
      case 'too_big':
        if (issue.origin === 'string') return [problem('SHAPE', path, `must be at most ${issue.maximum} characters`)];
        return [problem('SHAPE', path, `must be at most ${issue.maximum}, got ${describe(input)}`)];
      case 'custom': {
        const code = (issue.params as { code?: Problem['code'] } | undefined)?.code ?? 'SHAPE';
        return [problem(code, path, issue.message)];
      }
      default:
        return [problem('SHAPE', path, issue.message)];
    }
  });
}

function article(type: string): string {
  const names: Record<string, string> = {
    int: 'a whole number',
    integer: 'a whole number',
    null: 'null',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'an object',
    record: 'an object',
    array: 'a list',
  };
  return names[type] ?? type;
}

/** id -> index of its first step; reports bad and duplicate ids of every step, well-shaped or not. */
function collectIds(doc: unknown, problems: Problem[]): Map<string, number> {
  const ids = new Map<string, number>();
  if (!isObject(doc) || !Array.isArray(doc.steps)) return ids;
  doc.steps.forEach((raw, index) => {
    const id = isObject(raw) ? raw.id : undefined;
    if (typeof id !== 'string') return;
    const first = ids.get(id);
    if (first !== undefined) problems.push(problem('DUPLICATE_ID', ['steps', index, 'id'], `duplicate id "${id}" (also steps[${first}])`));
    else ids.set(id, index);
  });
  // Steps whose kind is unknown were not shape-checked: their ids still need the pattern.
  doc.steps.forEach((raw, index) => {
    const id = isObject(raw) ? raw.id : undefined;
    if (
      typeof id === 'string' &&
      !STEP_ID_PATTERN.test(id) &&
      !(isObject(raw) && typeof raw.kind === 'string' && Object.hasOwn(STEP_SCHEMAS, raw.kind))
    ) {
      problems.push(
        problem(
          'INVALID_ID',
          ['steps', index, 'id'],
          `invalid id ${JSON.stringify(id)}: use lower case letters, digits and _, starting with a letter`,
        ),
      );
    }
  });
  return ids;
}

// ---- one step ----------------------------------------------------------------------------------------------

function checkStep(step: Step, index: number, ctx: Context): void {
  const path: PathSegment[] = ['steps', index];
  for (const [i, dep] of (step.after ?? []).entries()) {
    if (dep === step.id) ctx.problems.push(problem('SELF_REFERENCE', [...path, 'after', i], `step "${step.id}" cannot come after itself`));
    else if (!ctx.ids.has(dep))
      ctx.problems.push(problem('UNKNOWN_STEP', [...path, 'after', i], `unknown step "${dep}"${didYouMean(dep, ctx.ids.keys())}`));
    else addDependency(ctx, step, dep);
  }
  for (const site of stepSites(step, index)) checkSite(site, step, ctx);

  switch (step.kind) {
    case 'tool':
      checkTool(step, path, ctx);
      break;
    case 'llm':
      if (step.output !== undefined) {
        checkJsonSchema(step.output, [...path, 'output'], ctx.problems);
        if (step.output.type !== 'object') {
          ctx.problems.push(
            problem(
              'JSON_SCHEMA',
              [...path, 'output', 'type'],
              'an llm output schema must describe an object ("type": "object"), as structured outputs require',
            ),
          );
        }
      }
      break;
    case 'approval':
      if (step.onTimeout !== undefined && step.timeout === undefined) {
        ctx.problems.push(problem('SHAPE', [...path, 'onTimeout'], 'has no effect without a timeout; add "timeout" (for example "24h")'));
      }
      break;
    case 'wait':
      break;
  }
}

function checkTool(step: Extract<Step, { kind: 'tool' }>, path: PathSegment[], ctx: Context): void {
  if (!ctx.tools) return;
  const tool = ctx.tools.get(step.tool);
  if (!tool) {
    ctx.problems.push(problem('UNKNOWN_TOOL', [...path, 'tool'], `unknown tool "${step.tool}"${didYouMean(step.tool, ctx.tools.keys())}`));
    return;
  }
  const schema = tool.inputSchema;
  const properties = (isObject(schema.properties) ? schema.properties : {}) as Record<string, JsonSchema>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const args = step.args ?? {};
  const names = Object.keys(properties);
  const takes = names.length > 0 ? `${step.tool} takes: ${names.join(', ')}` : `${step.tool} takes no arguments`;
  for (const name of required) {
    if (!(name in args)) ctx.problems.push(problem('TYPE', [...path, 'args'], `missing argument "${name}" (${takes})`));
  }
  for (const [name, value] of Object.entries(args)) {
    const argPath = [...path, 'args', name];
    const propertySchema = properties[name];
    if (!propertySchema) {
      if (schema.additionalProperties !== true && typeof schema.additionalProperties !== 'object') {
        ctx.problems.push(problem('TYPE', argPath, `unknown argument "${name}"${didYouMean(name, names)} (${takes})`));
      }
      continue;
    }
    // Literal values are checked now; values with ${...} are checked by the tool when the step runs.
    if (containsTemplate(value)) continue;
    for (const issue of checkValue(propertySchema, value)) ctx.problems.push(problem('TYPE', [...argPath, ...issue.path], issue.message));
  }
}

function containsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return hasTemplate(value);
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (isObject(value)) return Object.values(value).some(containsTemplate);
  return false;
}

function checkJsonSchema(schema: JsonSchema, path: PathSegment[], problems: Problem[]): void {
  for (const issue of checkSchema(schema)) problems.push(problem('JSON_SCHEMA', [...path, ...issue.path], issue.message));
}

// ---- expressions -------------------------------------------------------------------------------------------

/** Parses the expressions of one site and checks what they reference. `step` is undefined for the run output. */
function checkSite(site: ExpressionSite, step: Step | undefined, ctx: Context): void {
  if (site.kind === 'condition' && site.text.includes('${')) {
    const single = /^\s*\$\{([^{}]*)\}\s*$/.exec(site.text);
    const hint = single ? `write ${single[1]!.trim()}` : 'write it';
    ctx.problems.push(problem('EXPRESSION', site.path, `"when" is an expression already: ${hint} without \${...}`));
    return;
  }
  let expressions: Array<{ source: string; offset: number }>;
  try {
    expressions = siteExpressions(site);
  } catch (e) {
    if (!(e instanceof TemplateSyntaxError)) throw e;
    ctx.problems.push(problem('EXPRESSION', site.path, `${e.reason} (at column ${e.offset + 1})`));
    return;
  }
  for (const { source } of expressions) {
    let compiled: CompiledExpression;
    try {
      compiled = compileExpression(source);
    } catch (e) {
      if (!(e instanceof ExpressionSyntaxError)) throw e;
      ctx.problems.push(problem('EXPRESSION', site.path, e.message));
      continue;
    }
    checkReferences(compiled, site.path, step, ctx);
  }
}

function checkReferences(expr: CompiledExpression, path: PathSegment[], step: Step | undefined, ctx: Context): void {
  for (const name of expr.variables) {
    if (!(SCOPE_VARIABLES as readonly string[]).includes(name)) {
      ctx.problems.push(
        problem(
          'UNKNOWN_VARIABLE',
          path,
          `unknown name "${name}" in ${JSON.stringify(expr.source)}${didYouMean(name, SCOPE_VARIABLES)}; expressions can use ${SCOPE_VARIABLES.join(', ')}`,
        ),
      );
    }
  }
  for (const ref of expr.references) {
    if (step && ref.step === step.id) {
      ctx.problems.push(problem('SELF_REFERENCE', path, `step "${step.id}" cannot reference its own output (steps.${ref.step})`));
      continue;
    }
    const target = ctx.steps.get(ref.step);
    if (step) addDependency(ctx, step, ref.step);
    if (!ctx.ids.has(ref.step)) {
      ctx.problems.push(problem('UNKNOWN_STEP', path, `unknown step "${ref.step}" in steps.${ref.step}${didYouMean(ref.step, ctx.ids.keys())}`));
      continue;
    }
    if (!target || ref.fields.length === 0) continue;
    const schema = stepOutputSchema(target, ctx.tools);
    if (schema) checkFields(schema, ['steps', ref.step], ref.fields, path, describeStepOutput(target), ctx.problems);
  }
  if (ctx.inputSchema) {
    for (const ref of expr.inputReferences) checkFields(ctx.inputSchema, ['input'], ref.fields, path, 'the input schema', ctx.problems);
  }
}

function describeStepOutput(step: Step): string {
  if (step.kind === 'llm' && !step.output) return `the reply text of llm step "${step.id}" (it has no output schema)`;
  if (step.kind === 'tool') return `the output of tool ${step.tool}`;
  return `the output of ${step.kind} step "${step.id}"`;
}

/** Walks `steps.x.a.b` through an output schema, reporting the first field that cannot exist. */
function checkFields(schema: JsonSchema, prefix: string[], fields: string[], path: PathSegment[], origin: string, problems: Problem[]): void {
  let current = schema;
  const walked = [...prefix];
  for (const field of fields) {
    const r: FieldLookup = selectField(current, field);
    const name = walked.join('.');
    if ('missing' in r) {
      const hint = closest(field, r.missing);
      const known = r.missing.length > 0 ? `fields: ${r.missing.join(', ')}` : 'it has no fields';
      problems.push(problem('TYPE', path, `${name} has no field "${field}" (${hint ? `did you mean "${hint}"? ` : ''}${known})`));
      return;
    }
    if ('notAnObject' in r) {
      const what = walked.length === prefix.length ? `${name} is ${origin}, ${article(r.notAnObject)}` : `${name} is ${article(r.notAnObject)}`;
      problems.push(problem('TYPE', path, `${what}; it has no field "${field}"`));
      return;
    }
    if ('unknown' in r) return;
    current = r.found;
    walked.push(field);
  }
}

// ---- helpers -----------------------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${formatPath(p.path)}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
