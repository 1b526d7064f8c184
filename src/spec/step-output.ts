/**
 * What each step kind outputs, as JSON Schema: the type check reads `steps.X.field` against it, and the
 * interpreter produces exactly these shapes.
 */
import type { JsonSchema, ToolCatalog } from './catalog.js';
import type { MapSubStep, Spec, Step } from './schema.js';
import { hasTemplate, parseTemplate } from './template.js';
import type { SpecLibrary } from './uses.js';

/** An approval's answer. A denial is an answer too: `approved: false`. */
export const APPROVAL_OUTPUT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    approved: { type: 'boolean' },
    by: { type: ['string', 'null'], description: 'who answered; null when the timeout answered' },
    comment: { type: ['string', 'null'] },
    at: { type: 'string', description: 'when, as an ISO 8601 timestamp' },
  },
  required: ['approved', 'by', 'comment', 'at'],
  additionalProperties: false,
};

/** A wait's output: when it ended. */
export const WAIT_OUTPUT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { at: { type: 'string', description: 'when the wait ended, as an ISO 8601 timestamp' } },
  required: ['at'],
  additionalProperties: false,
};

const TEXT: JsonSchema = { type: 'string' };

/**
 * The output schema of a step, or undefined when it is not known (a tool without a catalog, a call without the
 * spec library). `specs` is the library of saved specs that call steps name.
 */
export function stepOutputSchema(step: Step, tools?: ToolCatalog, specs?: SpecLibrary): JsonSchema | undefined {
  switch (step.kind) {
    case 'tool':
    case 'llm':
    case 'agent':
      return callOutputSchema(step, tools);
    case 'approval':
      return APPROVAL_OUTPUT_SCHEMA;
    case 'wait':
      return WAIT_OUTPUT_SCHEMA;
    case 'map':
      return listOf(callOutputSchema(step.step, tools), step.onItemError === 'continue' || mayBeDenied(step.step, tools));
    case 'call':
      return calledSpecOutputSchema(specs?.get(step.spec));
  }
}

/** What one tool call or model call gives: the tool's output from the catalog, the structured reply, or the text. */
function callOutputSchema(call: Step | MapSubStep, tools: ToolCatalog | undefined): JsonSchema | undefined {
  if (call.kind === 'tool') return tools?.get(call.tool)?.outputSchema;
  if (call.kind === 'llm' || call.kind === 'agent') return call.output ?? TEXT;
  return undefined;
}

/** A tool call that a person may be asked to approve: a denial is an answer, and the call's output is then null. */
function mayBeDenied(call: MapSubStep, tools: ToolCatalog | undefined): boolean {
  return call.kind === 'tool' && (tools?.get(call.tool)?.approval ?? 'never') !== 'never';
}

/**
 * A map's output: one entry per item, in item order. An item is null when it failed under onItemError: continue, or
 * when a person denied its gated tool call.
 */
function listOf(items: JsonSchema | undefined, nullable: boolean): JsonSchema {
  if (!items) return { type: 'array' };
  return { type: 'array', items: nullable ? { anyOf: [items, { type: 'null' }] } : items };
}

/**
 * A child run's output is its spec's `output` rendered (the steps' outputs when it has none, left unknown here:
 * they depend on the child's own steps). The template already says which fields there are: enough to catch a
 * typo in `steps.c.field`.
 */
function calledSpecOutputSchema(called: Spec | undefined): JsonSchema | undefined {
  return called?.output === undefined ? undefined : renderedSchema(called.output);
}

/** What renderValue makes of this value, as far as its text tells: an exact `${expr}` has the expression's type. */
function renderedSchema(value: unknown): JsonSchema {
  if (typeof value === 'string') return isWholeExpression(value) ? {} : TEXT;
  if (value === null) return { type: 'null' };
  if (Array.isArray(value)) return { type: 'array' };
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    return { type: 'object', properties: Object.fromEntries(entries.map(([k, v]) => [k, renderedSchema(v)])), required: entries.map(([k]) => k) };
  }
  return { type: typeof value === 'boolean' ? 'boolean' : 'number' };
}

function isWholeExpression(text: string): boolean {
  if (!hasTemplate(text)) return false;
  try {
    const parts = parseTemplate(text);
    return parts.length === 1 && typeof parts[0] !== 'string';
  } catch {
    return true; // a broken template in a saved spec: its value is not known
  }
}
