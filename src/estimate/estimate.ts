/**
 * What a spec will use before it runs, from the spec alone: model calls, tool calls, tokens, money and the
 * critical path's latency, each as a range over every path the spec may take (a step with `when` may not run; an
 * agent takes 1 to maxTurns turns; a map runs as many items as its list is known to hold). Pure and deterministic,
 * so a goal run's workflow estimates its plan itself. The assumptions are the constants below (docs/cost.md).
 */
import { addCost, costOf, type Cost, type PriceTable } from '../pricing/cost.js';
import type { JsonSchema, ToolCatalog } from '../spec/catalog.js';
import { parseDuration } from '../spec/duration.js';
import { dependencyMap, topologicalOrder } from '../spec/graph.js';
import type { AgentStep, MapSubStep, Spec, Step, StepKind } from '../spec/schema.js';
import { stepOutputSchema } from '../spec/step-output.js';
import { parseTemplate } from '../spec/template.js';
import type { SpecLibrary } from '../spec/uses.js';
import { add, exactly, longer, optional, sum, times, ZERO, type Range } from './range.js';

/** The estimate's assumptions, each a documented constant (docs/cost.md). */
export const ASSUMPTIONS = {
  /** Characters of text per token, for prompts and replies alike. */
  charsPerToken: 4,
  /** Characters a `${...}` in a prompt is taken to become (its value is not known before the run). */
  charsPerInterpolation: 400,
  /** Tokens of a reply without an output schema (free text). */
  textReplyTokens: 150,
  /** Tokens of a string in a structured reply without maxLength. */
  stringTokens: 12,
  /** Items of an array in a structured reply, unless minItems or maxItems say otherwise. */
  arrayItems: 3,
  /** Tokens of a tool call an agent's turn asks for, and of a tool's result when its output schema is not known. */
  toolCallTokens: 30,
  toolResultTokens: 200,
  /** Characters of a tool's definition as an agent is sent it, when the tool catalog is not known. */
  toolDefinitionChars: 400,
  /** A model call's latency: this much, plus this much per output token. */
  modelBaseMs: 800,
  modelMsPerOutputToken: 20,
  /** A tool call's latency. */
  toolMs: 500,
  /** A map's items at once, when the map does not say (the map's own default). */
  mapParallel: 4,
} as const;

export interface EstimateOptions {
  /** Prices by model (the worker's table); a model without a price makes the cost unknown. */
  prices?: PriceTable;
  /** The model a call that names none goes to (TRELLIS_MODEL). */
  model?: string;
  /** The tool catalog: tool result sizes (output schemas), agent tool definitions, map list lengths from outputs. */
  tools?: ToolCatalog;
  /** Saved specs that call steps name: each is estimated in turn; without it, a call step is unknown. */
  specs?: SpecLibrary;
}

/** What a step, or a whole spec, is expected to use. Costs are a least and a most (null: no bound). */
export interface Figures {
  modelCalls: Range;
  toolCalls: Range;
  inputTokens: Range;
  outputTokens: Range;
  cost: { min: Cost; max: Cost | null };
  /** The step's own latency; for a spec, its critical path's. People's answers are not counted. */
  latencyMs: Range;
}

export interface StepEstimate extends Figures {
  id: string;
  kind: StepKind;
  /** What the figures could not know, for people: `items: list length unknown`. */
  notes: string[];
}

export interface SpecEstimate extends Figures {
  /** Input and output tokens together. */
  tokens: Range;
  steps: StepEstimate[];
}

/** Call steps of saved specs that call each other stop here (as runs do). */
const MAX_DEPTH = 5;

/** The estimate of `spec` (a valid one: validateSpec's). */
export function estimateSpec(spec: Spec, options: EstimateOptions = {}, depth = 0): SpecEstimate {
  const steps = spec.steps.map((s) => estimateStep(spec, s, options, depth));
  const byId = new Map(steps.map((s) => [s.id, s]));
  // The critical path: a step ends its own latency after the latest of the steps it depends on.
  const deps = dependencyMap(spec);
  const ends = new Map<string, Range>();
  for (const id of topologicalOrder(
    spec.steps.map((s) => s.id),
    deps,
  )) {
    const start = (deps.get(id) ?? []).reduce((at, d) => longer(at, ends.get(d) ?? ZERO), ZERO);
    ends.set(id, add(start, byId.get(id)!.latencyMs));
  }
  const inputTokens = sum(steps.map((s) => s.inputTokens));
  const outputTokens = sum(steps.map((s) => s.outputTokens));
  return {
    modelCalls: sum(steps.map((s) => s.modelCalls)),
    toolCalls: sum(steps.map((s) => s.toolCalls)),
    inputTokens,
    outputTokens,
    tokens: add(inputTokens, outputTokens),
    cost: {
      min: steps.reduce<Cost>((c, s) => addCost(c, s.cost.min), { usd: 0 }),
      max: steps.some((s) => s.cost.max === null) ? null : steps.reduce<Cost>((c, s) => addCost(c, s.cost.max!), { usd: 0 }),
    },
    latencyMs: [...ends.values()].reduce(longer, ZERO),
    steps,
  };
}

/** One model call's or tool call's figures, before a step's count of them. */
interface Unit {
  model?: string;
  modelCalls: Range;
  toolCalls: Range;
  inputTokens: Range;
  outputTokens: Range;
  latencyMs: Range;
}

const NONE: Unit = { modelCalls: ZERO, toolCalls: ZERO, inputTokens: ZERO, outputTokens: ZERO, latencyMs: ZERO };
const UNKNOWN: Range = { min: 0, max: null };

function estimateStep(spec: Spec, step: Step, options: EstimateOptions, depth: number): StepEstimate {
  const notes: string[] = [];
  let unit: Unit;
  let cost: Figures['cost'] | undefined;
  switch (step.kind) {
    case 'tool':
      unit = toolCall();
      break;
    case 'llm':
      unit = modelCall(step, options);
      // A structured reply that does not match is asked for once more.
      if (step.output) unit = { ...unit, ...scaled(unit, { min: 1, max: 2 }) };
      break;
    case 'agent':
      unit = agent(step, options);
      notes.push(`at most one tool call a turn assumed; ${step.maxTurns} turns at most`);
      break;
    case 'approval':
      unit = NONE;
      notes.push("a person's answer: not counted in the latency");
      break;
    case 'wait':
      unit = { ...NONE, latencyMs: exactly(parseDuration(step.duration) ?? 0) };
      break;
    case 'map': {
      const count = listLength(spec, step.items, options);
      if (count.max === null) notes.push(`items: the length of ${step.items} is not known (give its schema maxItems)`);
      const item = step.step.kind === 'tool' ? toolCall() : modelCall(step.step, options);
      const parallel = step.maxParallel ?? ASSUMPTIONS.mapParallel;
      const rounds = { min: Math.ceil(count.min / parallel), max: count.max === null ? null : Math.ceil(count.max / parallel) };
      unit = { ...scaled(item, count), latencyMs: times(item.latencyMs, rounds), ...(item.model !== undefined && { model: item.model }) };
      break;
    }
    case 'call': {
      const called = options.specs?.get(step.spec);
      if (!called || depth + 1 >= MAX_DEPTH) {
        notes.push(`spec ${step.spec} is not known here (give --specs): its figures are not counted`);
        unit = { modelCalls: UNKNOWN, toolCalls: UNKNOWN, inputTokens: UNKNOWN, outputTokens: UNKNOWN, latencyMs: UNKNOWN };
        cost = { min: { usd: 0 }, max: null };
        break;
      }
      const inner = estimateSpec(called, options, depth + 1);
      unit = inner;
      cost = inner.cost;
      break;
    }
  }
  if (step.when !== undefined) {
    notes.push('may be skipped (when)');
    unit = {
      ...unit,
      modelCalls: optional(unit.modelCalls),
      toolCalls: optional(unit.toolCalls),
      inputTokens: optional(unit.inputTokens),
      outputTokens: optional(unit.outputTokens),
      latencyMs: optional(unit.latencyMs),
    };
    if (cost) cost = { min: { usd: 0 }, max: cost.max };
  }
  return {
    id: step.id,
    kind: step.kind,
    modelCalls: unit.modelCalls,
    toolCalls: unit.toolCalls,
    inputTokens: unit.inputTokens,
    outputTokens: unit.outputTokens,
    cost: cost ?? costRange(unit, options),
    latencyMs: unit.latencyMs,
    notes,
  };
}

/** The cost of a unit's tokens, all at its model's price; none for a unit without model calls. */
function costRange(unit: Unit, options: EstimateOptions): Figures['cost'] {
  if (unit.modelCalls.max === 0) return { min: { usd: 0 }, max: { usd: 0 } };
  const model = unit.model ?? options.model ?? 'the default model (TRELLIS_MODEL is not set)';
  const prices = options.prices ?? {};
  const at = (input: number, output: number) => costOf(prices, model, { prompt: input, completion: output });
  const { inputTokens: i, outputTokens: o } = unit;
  return { min: at(i.min, o.min), max: i.max === null || o.max === null ? null : at(i.max, o.max) };
}

function scaled(unit: Unit, count: Range): Omit<Unit, 'model'> {
  return {
    modelCalls: times(unit.modelCalls, count),
    toolCalls: times(unit.toolCalls, count),
    inputTokens: times(unit.inputTokens, count),
    outputTokens: times(unit.outputTokens, count),
    latencyMs: times(unit.latencyMs, count),
  };
}

const toolCall = (): Unit => ({ ...NONE, toolCalls: exactly(1), latencyMs: exactly(ASSUMPTIONS.toolMs) });

/** One model call: the prompt's text (its `${...}` as assumed), the response format, and the reply its schema gives. */
function modelCall(call: Pick<MapSubStep & { kind: 'llm' }, 'prompt' | 'system' | 'output' | 'model'>, options: EstimateOptions): Unit {
  const chars = templateChars(call.prompt) + (call.system === undefined ? 0 : templateChars(call.system)) + responseFormatChars(call.output);
  const output = call.output ? schemaTokens(call.output) : ASSUMPTIONS.textReplyTokens;
  return {
    ...NONE,
    ...((call.model ?? options.model) !== undefined && { model: (call.model ?? options.model)! }),
    modelCalls: exactly(1),
    inputTokens: exactly(tokens(chars)),
    outputTokens: exactly(output),
    latencyMs: exactly(modelMs(output)),
  };
}

/**
 * An agent: 1 turn (a final answer at once) to maxTurns (a tool call each turn but the last). Each turn sends the
 * whole conversation again, so turn k's prompt is the first's plus k-1 tool calls and results.
 */
function agent(step: AgentStep, options: EstimateOptions): Unit {
  const definitions = step.tools.reduce((n, name) => {
    const tool = options.tools?.get(name);
    if (!tool) return n + ASSUMPTIONS.toolDefinitionChars;
    const offered = { type: 'function', function: { name, description: tool.description, parameters: tool.inputSchema } };
    return n + JSON.stringify(offered).length;
  }, 0);
  const first = modelCall(step, options);
  const base = first.inputTokens.min + tokens(definitions);
  const results = step.tools.map((name) => {
    const schema = options.tools?.get(name)?.outputSchema;
    return schema ? schemaTokens(schema) : ASSUMPTIONS.toolResultTokens;
  });
  const growth = ASSUMPTIONS.toolCallTokens + Math.max(...results);
  const turns = step.maxTurns;
  const final = first.outputTokens.min;
  return {
    ...first,
    modelCalls: { min: 1, max: turns },
    toolCalls: { min: 0, max: turns - 1 },
    inputTokens: { min: base, max: turns * base + (growth * turns * (turns - 1)) / 2 },
    outputTokens: { min: final, max: final + (turns - 1) * ASSUMPTIONS.toolCallTokens },
    latencyMs: {
      min: modelMs(final),
      max: modelMs(final) + (turns - 1) * (modelMs(ASSUMPTIONS.toolCallTokens) + ASSUMPTIONS.toolMs),
    },
  };
}

/**
 * How many items a map's list holds: a list of literals' length; for `input.x` or `steps.s.x`, its schema's minItems
 * and maxItems (the input schema's, or the step's output schema's); else from none up to unknown.
 */
function listLength(spec: Spec, items: string, options: EstimateOptions): Range {
  const text = items.trim();
  const literal = literalListLength(text);
  if (literal !== undefined) return exactly(literal);
  const path = /^(input|steps\.([a-z][a-z0-9_]*))((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/.exec(text);
  if (!path) return UNKNOWN;
  const source = path[2] === undefined ? spec.input : stepSchema(spec, path[2], options);
  let schema: JsonSchema | undefined = source;
  for (const key of path[3]!.split('.').slice(1)) schema = property(schema, key);
  if (!schema) return UNKNOWN;
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  return { min, max: typeof schema.maxItems === 'number' ? schema.maxItems : null };
}

/** A CEL list of literals only (`['a', "b", 1, true]`): how many; undefined for anything else. */
const LITERAL = String.raw`(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)`;
const LITERAL_LIST = new RegExp(String.raw`^\[\s*(?:${LITERAL}\s*(?:,\s*${LITERAL}\s*)*,?\s*)?\]$`);

function literalListLength(text: string): number | undefined {
  if (!LITERAL_LIST.test(text)) return undefined;
  return text.match(new RegExp(LITERAL, 'g'))?.length ?? 0;
}

function stepSchema(spec: Spec, id: string, options: EstimateOptions): JsonSchema | undefined {
  const step = spec.steps.find((s) => s.id === id);
  return step && stepOutputSchema(step, options.tools, options.specs);
}

function property(schema: JsonSchema | undefined, key: string): JsonSchema | undefined {
  const properties = schema?.properties as Record<string, JsonSchema> | undefined;
  return properties && Object.hasOwn(properties, key) ? properties[key] : undefined;
}

/** A template's characters once rendered: its literal text, and each `${...}` as assumed. */
function templateChars(text: string): number {
  return parseTemplate(text).reduce((n, part) => n + (typeof part === 'string' ? part.length : ASSUMPTIONS.charsPerInterpolation), 0);
}

/** What the structured reply's response_format adds to the prompt. */
function responseFormatChars(output: Record<string, unknown> | undefined): number {
  if (!output) return 0;
  return JSON.stringify({ type: 'json_schema', json_schema: { name: 'output', schema: output, strict: false } }).length;
}

const tokens = (chars: number) => Math.ceil(chars / ASSUMPTIONS.charsPerToken);

const modelMs = (outputTokens: number) => ASSUMPTIONS.modelBaseMs + outputTokens * ASSUMPTIONS.modelMsPerOutputToken;

/** Tokens of a JSON value that matches `schema`, as a model would write it (compact JSON). */
export function schemaTokens(schema: unknown, depth = 0): number {
  if (schema === null || typeof schema !== 'object' || depth > 8) return ASSUMPTIONS.stringTokens;
  const s = schema as JsonSchema;
  if (s.const !== undefined || Array.isArray(s.enum)) return 3;
  const variants = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants) && variants.length > 0) return schemaTokens(variants[0], depth + 1);
  const type = Array.isArray(s.type) ? (s.type as unknown[]).find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'string':
      return typeof s.maxLength === 'number' ? Math.max(1, Math.min(tokens(s.maxLength), ASSUMPTIONS.stringTokens * 4)) : ASSUMPTIONS.stringTokens;
    case 'number':
    case 'integer':
      return 2;
    case 'boolean':
    case 'null':
      return 1;
    case 'array': {
      const least = typeof s.minItems === 'number' ? s.minItems : 0;
      const most = typeof s.maxItems === 'number' ? s.maxItems : Infinity;
      const n = Math.max(least, Math.min(most, ASSUMPTIONS.arrayItems));
      return 2 + n * (schemaTokens(s.items, depth + 1) + 1);
    }
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      return Object.entries(properties).reduce((n, [key, value]) => n + tokens(key.length + 3) + schemaTokens(value, depth + 1), 2);
    }
    default:
      return ASSUMPTIONS.stringTokens;
  }
}
