/** The checks of one well-shaped step: its tools and their literal args, schemas, a map's items, a call's spec. */
import type { JsonSchema, ToolCatalog } from '../catalog.js';
import { parseDuration } from '../duration.js';
import { compileExpression, type CompiledExpression } from '../expression.js';
import { getOwn } from '../own.js';
import { problem, type PathSegment, type Problem } from '../problems.js';
import type { AgentStep, CallStep, MapStep, Step } from '../schema.js';
import { checkSchema, checkValue } from '../schema-check.js';
import { stepSites } from '../sites.js';
import { stepOutputSchema } from '../step-output.js';
import { didYouMean } from '../suggest.js';
import { hasTemplate } from '../template.js';
import { addDependency, isObject, type Context } from './context.js';
import { checkSite, describeStepOutput, walkFields } from './expressions.js';

export function checkStep(step: Step, index: number, ctx: Context): void {
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
      if (step.remind !== undefined && step.timeout !== undefined) {
        const [remind, timeout] = [parseDuration(step.remind), parseDuration(step.timeout)];
        if (remind !== undefined && timeout !== undefined && remind >= timeout) {
          ctx.problems.push(
            problem('SHAPE', [...path, 'remind'], `must be shorter than the timeout (${step.timeout}): the reminder goes out before the deadline`),
          );
        }
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

export function unknownTool(name: string, path: PathSegment[], tools: ToolCatalog): Problem {
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

export function checkJsonSchema(schema: JsonSchema, path: PathSegment[], problems: Problem[]): void {
  for (const issue of checkSchema(schema)) problems.push(problem('JSON_SCHEMA', [...path, ...issue.path], issue.message));
}
