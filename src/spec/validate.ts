/**
 * The validator: every problem in a spec at once, each with a path and a message, sorted by path. It runs
 * before any side effect (the CLI, the client's start, the planner's repair loop) and never throws on
 * bad input.
 */
import { z } from 'zod';
import type { JsonSchema, ToolCatalog } from './catalog.js';
import { callCycleProblems } from './call-cycles.js';
import { compileExpression, ExpressionSyntaxError, ITEM_VARIABLES, SCOPE_VARIABLES, type CompiledExpression } from './expression.js';
import { findCycles, siteExpressions } from './graph.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { getOwn } from './own.js';
import { parseSpecText, utf8Length, type SpecFormat } from './parse.js';
import { regexProblem } from './regex.js';
import { compareProblems, formatPath, problem, type PathSegment, type Problem } from './problems.js';
import {
  MapStepSchema,
  SpecSchema,
  STEP_ID_PATTERN,
  STEP_KINDS,
  STEP_SCHEMAS,
  type AgentStep,
  type CallStep,
  type MapStep,
  type Spec,
  type Step,
} from './schema.js';
import { checkSchema, checkValue, describe, selectField, type FieldLookup } from './schema-check.js';
import { outputSites, stepSites, type ExpressionSite } from './sites.js';
import { closest, didYouMean } from './suggest.js';
import { hasTemplate, TemplateSyntaxError } from './template.js';
import { stepOutputSchema } from './step-output.js';
import type { SpecLibrary } from './uses.js';

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

interface Context {
  ids: Map<string, number>;
  tools: ToolCatalog | undefined;
  specs: SpecLibrary | undefined;
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
  if (!root.success) problems.push(...zodProblems(root.error.issues, [], SpecSchema));
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
      // The document's own step, which is what runs: zod's copy loses an args key `__proto__` (z.record assigns it).
      valid.push({ step: raw as unknown as Step, index });
      return;
    }
    problems.push(...zodProblems(parsed.error.issues, path, schema));
    const broken = new Set(parsed.error.issues.map((i) => i.path[0]));
    if (typeof raw.id === 'string' && !broken.has('id')) {
      partial.push({ step: Object.fromEntries(Object.entries(raw).filter(([k]) => !broken.has(k))) as unknown as Step, index });
    }
  });
  return none;
}

/** zod issues as problems: messages that name the field and what was expected. `schema` is what was parsed. */
function zodProblems(issues: z.core.$ZodIssue[], base: PathSegment[], schema: z.ZodType): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = [...base, ...(issue.path as PathSegment[])];
    const last = path[path.length - 1];
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownFields(schema, issue.path, input);
        const subStep = isMapField(schema, issue.path, 'step');
        return issue.keys.map((key) => {
          const hint = subStep && Object.hasOwn(SUB_STEP_FIELDS, key) ? SUB_STEP_FIELDS[key] : undefined;
          return problem('SHAPE', [...path, key], hint ?? `unknown field "${key}"${didYouMean(key, known)}`);
        });
      }
      case 'invalid_type': {
        const got =
          input === undefined ? `missing; expected ${article(issue.expected)}` : `expected ${article(issue.expected)}, got ${describe(input)}`;
        return [problem('SHAPE', path, isMapField(schema, issue.path, 'items') ? `${got}; ${ITEMS_HELP}` : got)];
      }
      case 'invalid_value':
        return [expectedOneOf(path, issue.values, input)];
      case 'invalid_union': {
        // A discriminated union (a map's step) reports the whole object as the input of its discriminator's path.
        const { discriminator, options } = issue as { discriminator?: string; options?: unknown[] };
        if (discriminator !== undefined && options && isObject(input)) return [expectedOneOf(path, options, input[discriminator])];
        return [problem('SHAPE', path, issue.message)];
      }
      case 'invalid_format':
        if (last === 'id' && issue.format === 'regex') {
          return [problem('INVALID_ID', path, `invalid id ${JSON.stringify(input)}: use lower case letters, digits and _, starting with a letter`)];
        }
        if (last === 'spec' && issue.format === 'regex') {
          return [
            problem(
              'SHAPE',
              path,
              `invalid spec name ${JSON.stringify(input)}: use lower case letters, digits, _ and -, starting with a letter or digit`,
            ),
          ];
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

/** Whether an issue's path is this field of a map step, the schema parsed being a step's. */
function isMapField(schema: z.ZodType, issuePath: readonly PropertyKey[], field: string): boolean {
  return schema === MapStepSchema && issuePath.length === 1 && issuePath[0] === field;
}

const ITEMS_HELP = 'items is a CEL expression that gives a list, e.g. "[1, 2]" or "steps.search.results"';

/** Fields of a whole step written into a map's sub-step, with what to do instead. */
const SUB_STEP_FIELDS: Readonly<Record<string, string>> = {
  id: "a map's sub-step has no id: the map step's id addresses it, and its expressions use item and index",
  when:
    "a map's sub-step has no when: the map step's when runs or skips all its items; to run only some items, " +
    'filter them in items, e.g. "steps.search.results.filter(r, r.score > 0.5)"',
};

/**
 * The fields of the strict object an unknown key was found in (the spec, a step, retry, budget, a map's step), for
 * "did you mean": the parsed schema walked down the issue's path. `value` is the object itself; it picks the
 * option of a discriminated union (a map's tool or llm sub-step).
 */
function knownFields(schema: z.ZodType, path: readonly PropertyKey[], value: unknown): string[] {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) current = current && fieldSchema(unwrapOptional(current), segment);
  if (!current) return [];
  const object = unwrapOptional(current);
  const chosen = object instanceof z.ZodDiscriminatedUnion ? unionOption(object, value) : object;
  return chosen instanceof z.ZodObject ? Object.keys(chosen.shape) : [];
}

/** The option of a discriminated union that this value's discriminator (its kind) selects. */
function unionOption(union: z.ZodDiscriminatedUnion, value: unknown): z.ZodType | undefined {
  const key = union.def.discriminator;
  const tag = isObject(value) ? value[key] : undefined;
  return (union.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && (o.shape[key] as z.ZodType | undefined)?.safeParse(tag).success);
}

function unwrapOptional(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? unwrapOptional(schema.unwrap() as z.ZodType) : schema;
}

function fieldSchema(schema: z.ZodType, segment: PropertyKey): z.ZodType | undefined {
  if (schema instanceof z.ZodObject && typeof segment === 'string' && Object.hasOwn(schema.shape, segment)) return schema.shape[segment] as z.ZodType;
  if (schema instanceof z.ZodArray && typeof segment === 'number') return schema.element as z.ZodType;
  return undefined;
}

function expectedOneOf(path: PathSegment[], values: readonly unknown[], input: unknown): Problem {
  const expected = values.map((v) => JSON.stringify(v)).join(' or ');
  return problem('SHAPE', path, input === undefined ? `missing; expected ${expected}` : `expected ${expected}, got ${describe(input)}`);
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
  return getOwn(names, type) ?? type;
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
      checkOutputSchema(step.output, [...path, 'output'], ctx.problems);
      break;
    case 'agent':
      checkAgentTools(step, path, ctx);
      checkOutputSchema(step.output, [...path, 'output'], ctx.problems);
      break;
    case 'map':
      if (step.step.kind === 'tool') checkTool(step.step, [...path, 'step'], ctx);
      else checkOutputSchema(step.step.output, [...path, 'step', 'output'], ctx.problems);
      checkItemsAreList(step, path, ctx);
      break;
    case 'call':
      checkCall(step, path, ctx);
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

/** A structured reply's schema (llm, agent, a map's llm sub-step): valid JSON Schema, and an object. */
function checkOutputSchema(output: JsonSchema | undefined, path: PathSegment[], problems: Problem[]): void {
  if (output === undefined) return;
  checkJsonSchema(output, path, problems);
  if (output.type !== 'object') {
    problems.push(
      problem('JSON_SCHEMA', [...path, 'type'], 'an llm output schema must describe an object ("type": "object"), as structured outputs require'),
    );
  }
}

/** A tool call, a tool step's or a map's sub-step's (`path` is where tool and args are): the tool exists, literal args fit. */
function checkTool(call: { tool: string; args?: Record<string, unknown> | undefined }, path: PathSegment[], ctx: Context): void {
  if (!ctx.tools) return;
  const tool = ctx.tools.get(call.tool);
  if (!tool) {
    ctx.problems.push(unknownTool(call.tool, [...path, 'tool'], ctx.tools));
    return;
  }
  const schema = tool.inputSchema;
  const properties = (isObject(schema.properties) ? schema.properties : {}) as Record<string, JsonSchema>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const args = call.args ?? {};
  const names = Object.keys(properties);
  const takes = names.length > 0 ? `${call.tool} takes: ${names.join(', ')}` : `${call.tool} takes no arguments`;
  // Own keys only: an argument or property named `toString` or `constructor` is not Object.prototype's.
  for (const name of required) {
    if (!Object.hasOwn(args, name)) ctx.problems.push(problem('TYPE', [...path, 'args'], `missing argument "${name}" (${takes})`));
  }
  for (const [name, value] of Object.entries(args)) {
    const argPath = [...path, 'args', name];
    const propertySchema = getOwn(properties, name);
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

function unknownTool(name: string, path: PathSegment[], tools: ToolCatalog): Problem {
  return problem('UNKNOWN_TOOL', path, `unknown tool "${name}"${didYouMean(name, tools.keys())}`);
}

/** An agent's tools: each named once, and each in the catalog when there is one. */
function checkAgentTools(step: AgentStep, path: PathSegment[], ctx: Context): void {
  const first = new Map<string, number>();
  step.tools.forEach((name, j) => {
    const at = [...path, 'tools', j];
    const seen = first.get(name);
    if (seen !== undefined) ctx.problems.push(problem('SHAPE', at, `duplicate tool "${name}" (also tools[${seen}])`));
    else {
      first.set(name, j);
      if (ctx.tools && !ctx.tools.has(name)) ctx.problems.push(unknownTool(name, at, ctx.tools));
    }
  });
}

/**
 * A map's items must be a list, where that is known before the run: a plain `steps.X.a` (or `input.a`) chain is read
 * through the schema the type check knows; any other expression through its CEL type, which its text alone gives for
 * literals and operators (`"abc"`, `1 + 2`, `{'a': 1}`) and leaves dyn (unknown) wherever it reads input or steps.
 * The sub-step's `item.field` references are not checked: the item's schema would be the list's items, left for later.
 */
const PLAIN_CHAIN = /^\s*(?:steps|input)(?:\.[A-Za-z_][A-Za-z0-9_]*)+\s*$/;

function checkItemsAreList(step: MapStep, path: PathSegment[], ctx: Context): void {
  const message = PLAIN_CHAIN.test(step.items) ? chainNotAList(step, ctx) : expressionNotAList(step.items);
  if (message) ctx.problems.push(problem('TYPE', [...path, 'items'], message));
}

function chainNotAList(step: MapStep, ctx: Context): string | undefined {
  if (!tryCompile(step.items)) return undefined;
  const [root, ...names] = step.items.trim().split('.') as [string, ...string[]];
  let start: { schema: JsonSchema | undefined; prefix: string[]; fields: string[]; origin: string };
  if (root === 'steps') {
    const target = ctx.steps.get(names[0]!);
    if (!target || target.id === step.id) return undefined; // an unknown step or a self-reference: reported with the site
    start = {
      schema: stepOutputSchema(target, ctx.tools, ctx.specs),
      prefix: ['steps', target.id],
      fields: names.slice(1),
      origin: describeStepOutput(target),
    };
  } else start = { schema: ctx.inputSchema, prefix: ['input'], fields: names, origin: 'the input schema' };
  if (!start.schema) return undefined;
  const reached = walkFields(start.schema, start.prefix, start.fields, start.origin);
  if (!('found' in reached)) return undefined; // a field that cannot exist: reported with the site
  const type = nonListType(reached.found);
  return type ? `${reached.says(type)}, not a list` : undefined;
}

/** The type a schema says its value has, when that type is not a list; undefined when it may be one or is unknown. */
function nonListType(schema: JsonSchema): string | undefined {
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.length === 0 || types.includes('array')) return undefined;
  return types.find((t) => t !== 'null') ?? 'null';
}

/**
 * CEL types that are never a list once the value leaves CEL, named for the message. Not here: list, dyn (unknown
 * until run time), bytes (it leaves CEL as a list of numbers) and any other type.
 */
const CEL_NOT_LISTS: Readonly<Record<string, string>> = {
  string: 'a string',
  int: 'a number',
  uint: 'a number',
  double: 'a number',
  bool: 'true or false',
  null: 'null',
  map: 'an object',
  'google.protobuf.Timestamp': 'a timestamp',
  'google.protobuf.Duration': 'a duration',
  type: 'a type',
  optional: 'an optional value',
};

function expressionNotAList(source: string): string | undefined {
  // An expression that does not parse is reported with the site.
  const base = tryCompile(source)?.staticType()?.replace(/<.*$/s, '');
  if (base === undefined || !Object.hasOwn(CEL_NOT_LISTS, base)) return undefined;
  const hint = base === 'optional' ? '; .orValue([]) gives its value, or an empty list when it is absent' : '';
  return `${source.trim()} is ${CEL_NOT_LISTS[base]!}, not a list${hint}`;
}

function tryCompile(source: string): CompiledExpression | undefined {
  try {
    return compileExpression(source);
  } catch {
    return undefined;
  }
}

/** A call: the spec is in the library (when one is given) and a literal input fits the called spec's input schema. */
function checkCall(step: CallStep, path: PathSegment[], ctx: Context): void {
  if (!ctx.specs) return;
  const called = ctx.specs.get(step.spec);
  if (!called) {
    ctx.problems.push(problem('UNKNOWN_SPEC', [...path, 'spec'], `unknown spec "${step.spec}"${didYouMean(step.spec, ctx.specs.keys())}`));
    return;
  }
  // Input with ${...} is known only when the step runs; a literal input is checked now, like a tool's literal args.
  if (!isObject(called.input) || containsTemplate(step.input)) return;
  if (step.input === undefined) {
    // The child run then gets null as its input, as a run started without one does.
    if (checkValue(called.input, null).length > 0) {
      ctx.problems.push(problem('TYPE', [...path, 'input'], `missing; spec "${step.spec}" needs an input${inputFields(called.input)}`));
    }
    return;
  }
  for (const issue of checkValue(called.input, step.input)) ctx.problems.push(problem('TYPE', [...path, 'input', ...issue.path], issue.message));
}

function inputFields(schema: JsonSchema): string {
  const names = isObject(schema.properties) ? Object.keys(schema.properties) : [];
  return names.length > 0 ? ` (fields: ${names.join(', ')})` : '';
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
  if (site.kind !== 'template' && site.text.includes('${')) {
    const single = /^\s*\$\{([^{}]*)\}\s*$/.exec(site.text);
    const hint = single ? `write ${single[1]!.trim()}` : 'write it';
    const field = String(site.path[site.path.length - 1]); // when, or a map's items
    ctx.problems.push(problem('EXPRESSION', site.path, `"${field}" is an expression already: ${hint} without \${...}`));
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
    for (const pattern of compiled.regexLiterals) {
      const invalid = regexProblem(pattern);
      if (invalid) ctx.problems.push(problem('EXPRESSION', site.path, invalid.message));
    }
    checkReferences(compiled, site, step, ctx);
  }
}

const ITEM_SCOPE_VARIABLES: readonly string[] = [...SCOPE_VARIABLES, ...ITEM_VARIABLES];

function checkReferences(expr: CompiledExpression, site: ExpressionSite, step: Step | undefined, ctx: Context): void {
  const path = site.path;
  for (const name of expr.variables) {
    const unknown = unknownVariable(name, expr.source, site);
    if (unknown) ctx.problems.push(unknown);
  }
  // `item.field` is not checked against the list's item schema (see checkItemsAreList).
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
    const schema = stepOutputSchema(target, ctx.tools, ctx.specs);
    if (schema) checkFields(schema, ['steps', ref.step], ref.fields, path, describeStepOutput(target), ctx.problems);
  }
  if (ctx.inputSchema) {
    for (const ref of expr.inputReferences) checkFields(ctx.inputSchema, ['input'], ref.fields, path, 'the input schema', ctx.problems);
  }
}

/** A name an expression reads must be in its scope: input, steps, run, and inside a map's step item and index. */
function unknownVariable(name: string, source: string, site: ExpressionSite): Problem | undefined {
  const allowed = site.itemScope ? ITEM_SCOPE_VARIABLES : SCOPE_VARIABLES;
  if (allowed.includes(name)) return undefined;
  const where = `unknown name "${name}" in ${JSON.stringify(source)}`;
  const why = (ITEM_VARIABLES as readonly string[]).includes(name)
    ? `: item and index exist only inside a map's step; here expressions can use`
    : `${didYouMean(name, allowed)}; expressions can use`;
  return problem('UNKNOWN_VARIABLE', site.path, `${where}${why} ${allowed.join(', ')}`);
}

function describeStepOutput(step: Step): string {
  if ((step.kind === 'llm' || step.kind === 'agent') && !step.output)
    return `the reply text of ${step.kind} step "${step.id}" (it has no output schema)`;
  if (step.kind === 'tool') return `the output of tool ${step.tool}`;
  return `the output of ${step.kind} step "${step.id}"`;
}

/** Walks `steps.x.a.b` through an output schema, reporting the first field that cannot exist. */
function checkFields(schema: JsonSchema, prefix: string[], fields: string[], path: PathSegment[], origin: string, problems: Problem[]): void {
  const reached = walkFields(schema, prefix, fields, origin);
  if ('problem' in reached) problems.push(problem('TYPE', path, reached.problem));
}

type Walk =
  | { found: JsonSchema; /** `steps.x.a is a string`: the chain with a type, for a message */ says: (type: string) => string }
  | { problem: string }
  | { unknown: true };

/** The schema at the end of `prefix.fields`, or why no value can be there, or unknown (the schema does not say). */
function walkFields(schema: JsonSchema, prefix: string[], fields: string[], origin: string): Walk {
  let current = schema;
  const walked = [...prefix];
  const says = (type: string) => {
    const name = walked.join('.');
    return walked.length === prefix.length ? `${name} is ${origin}, ${article(type)}` : `${name} is ${article(type)}`;
  };
  for (const field of fields) {
    const r: FieldLookup = selectField(current, field);
    if ('missing' in r) {
      const hint = closest(field, r.missing);
      const known = r.missing.length > 0 ? `fields: ${r.missing.join(', ')}` : 'it has no fields';
      return { problem: `${walked.join('.')} has no field "${field}" (${hint ? `did you mean "${hint}"? ` : ''}${known})` };
    }
    if ('notAnObject' in r) return { problem: `${says(r.notAnObject)}; it has no field "${field}"` };
    if ('unknown' in r) return { unknown: true };
    current = r.found;
    walked.push(field);
  }
  return { found: current, says };
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
