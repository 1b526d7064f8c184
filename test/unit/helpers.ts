/**
 * Small builders for the unit tests of the spec language: specs, steps, catalogs and scopes, and the
 * validator's result as the lines the CLI prints. Pure: no I/O, no Temporal.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import {
  catalogOf,
  formatProblem,
  validateSpec,
  validateSpecText,
  type CatalogTool,
  type JsonSchema,
  type Problem,
  type ProblemCode,
  type Scope,
  type Spec,
  type SpecLibrary,
  type ToolCatalog,
  type ValidateOptions,
  type ValidationResult,
} from '../../src/spec/index.js';

export type Doc = Record<string, unknown>;
type Fields = Record<string, unknown>;

// ---- specs and steps -----------------------------------------------------------------------------------------

/** A spec document around these steps; `extra` adds or overrides root fields (input, output, ...). */
export function spec(steps: unknown[], extra: Fields = {}): Doc {
  return { version: 1, name: 'test-spec', steps, ...extra };
}

/** A tool step calling lookup_order (the default catalog's tool) with a literal orderId. */
export function tool(id: string, extra: Fields = {}): Doc {
  return { id, kind: 'tool', tool: 'lookup_order', args: { orderId: 'o-1' }, ...extra };
}

export function llm(id: string, extra: Fields = {}): Doc {
  return { id, kind: 'llm', prompt: 'Summarise the order.', ...extra };
}

export function approval(id: string, extra: Fields = {}): Doc {
  return { id, kind: 'approval', title: 'Go ahead?', ...extra };
}

export function wait(id: string, extra: Fields = {}): Doc {
  return { id, kind: 'wait', duration: '1s', ...extra };
}

/** An agent that may call lookup_order, for at most 3 turns. */
export function agent(id: string, extra: Fields = {}): Doc {
  return { id, kind: 'agent', prompt: 'Find the order.', tools: ['lookup_order'], maxTurns: 3, ...extra };
}

/** A map over a literal list of order ids, looking each one up. */
export function map(id: string, extra: Fields = {}): Doc {
  return { id, kind: 'map', items: '["o-1", "o-2"]', step: { kind: 'tool', tool: 'lookup_order', args: { orderId: '${item}' } }, ...extra };
}

/** A call of the saved spec "child" with a literal input. */
export function call(id: string, extra: Fields = {}): Doc {
  return { id, kind: 'call', spec: 'child', input: { orderId: 'o-1' }, ...extra };
}

/** A wait step that runs only when `when` is true: the shortest way to put an expression in a spec. */
export function when(id: string, condition: string, extra: Fields = {}): Doc {
  return wait(id, { when: condition, ...extra });
}

/** The design document's example: valid with CATALOG. */
/** The refund flow of the README, as examples/refund.json has it (a fresh copy each call). */
export function refundSpec(): Doc {
  return JSON.parse(readFileSync(new URL('../../examples/refund.json', import.meta.url), 'utf8')) as Doc;
}

// ---- catalogs ------------------------------------------------------------------------------------------------

export function catalogTool(
  name: string,
  inputSchema: JsonSchema,
  outputSchema: JsonSchema,
  approval: CatalogTool['approval'] = 'never',
): CatalogTool {
  return { name, description: `the ${name} tool`, inputSchema, outputSchema, approval };
}

/** Three tools as plain JSON Schemas: lookup_order, refund_order (gated) and send_email (open input). */
export const CATALOG: ToolCatalog = catalogOf([
  catalogTool(
    'lookup_order',
    {
      type: 'object',
      properties: { orderId: { type: 'string' }, verbose: { type: 'boolean' } },
      required: ['orderId'],
    },
    {
      type: 'object',
      properties: {
        total: { type: 'number' },
        note: { type: 'string' },
        customer: {
          type: 'object',
          properties: { name: { type: 'string' }, address: { type: 'object', properties: { city: { type: 'string' } } } },
          required: ['name'],
        },
        items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } } } },
      },
      required: ['total', 'note', 'customer', 'items'],
    },
  ),
  catalogTool(
    'refund_order',
    { type: 'object', properties: { orderId: { type: 'string' }, amount: { type: 'number' } }, required: ['orderId', 'amount'] },
    { type: 'object', properties: { refundId: { type: 'string' } }, required: ['refundId'] },
    'required',
  ),
  catalogTool('send_email', { type: 'object', additionalProperties: true }, { type: 'object' }),
]);

// ---- results -------------------------------------------------------------------------------------------------

/** The problems as the CLI prints them: `path: message`. */
export function lines(result: ValidationResult): string[] {
  return result.problems.map(formatProblem);
}

export function codes(result: ValidationResult): ProblemCode[] {
  return result.problems.map((p) => p.code);
}

/** `[code, line]` pairs, the form the tests compare. */
export function found(result: ValidationResult): Array<[ProblemCode, string]> {
  return result.problems.map((p: Problem) => [p.code, formatProblem(p)]);
}

export function expectValid(doc: unknown, options: ValidateOptions = {}): void {
  const result = validateSpec(doc, options);
  expect(lines(result)).toEqual([]);
  expect(result.ok).toBe(true);
}

/** Exactly these problems, in this order. */
export function expectProblems(doc: unknown, expected: Array<[ProblemCode, string]>, options: ValidateOptions = {}): void {
  const result = validateSpec(doc, options);
  expect(found(result)).toEqual(expected);
  expect(result.ok).toBe(false);
}

export function expectTextValid(text: string, options: Parameters<typeof validateSpecText>[1] = {}): void {
  const result = validateSpecText(text, options);
  expect(lines(result)).toEqual([]);
  expect(result.ok).toBe(true);
}

export function expectTextProblems(text: string, expected: Array<[ProblemCode, string]>, options: Parameters<typeof validateSpecText>[1] = {}): void {
  const result = validateSpecText(text, options);
  expect(found(result)).toEqual(expected);
  expect(result.ok).toBe(false);
}

// ---- expressions ---------------------------------------------------------------------------------------------

export function scope(parts: { input?: unknown; steps?: Record<string, unknown>; run?: Record<string, unknown> } = {}): Scope {
  return {
    input: parts.input ?? {},
    steps: parts.steps ?? {},
    run: parts.run ?? { id: 'run-1', workflowId: 'wf-1', startedAt: '2025-01-01T00:00:00.000Z' },
  };
}

/** Every code the validator may report (a Record, so a new code in ProblemCode fails to compile here). */
export const KNOWN_CODES: Record<ProblemCode, true> = {
  SYNTAX: true,
  TOO_LARGE: true,
  SHAPE: true,
  UNKNOWN_KIND: true,
  INVALID_ID: true,
  DUPLICATE_ID: true,
  UNKNOWN_TOOL: true,
  UNKNOWN_SPEC: true,
  UNKNOWN_STEP: true,
  SELF_REFERENCE: true,
  UNKNOWN_VARIABLE: true,
  CYCLE: true,
  EXPRESSION: true,
  DURATION: true,
  JSON_SCHEMA: true,
  TYPE: true,
};

// ---- spec libraries ------------------------------------------------------------------------------------------

/** A library of saved specs for call steps: "child" takes { orderId } and outputs { refunded, reason, meta }. */
export const SPECS: SpecLibrary = new Map([
  [
    'child',
    spec([tool('order', { args: { orderId: '${input.orderId}' } })], {
      name: 'child',
      input: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'], additionalProperties: false },
      output: { refunded: '${steps.order.total > 0}', reason: 'total ${steps.order.total}', meta: { n: 1 } },
    }) as unknown as Spec,
  ],
  ['no-input', spec([wait('w')], { name: 'no-input' }) as unknown as Spec],
]);
