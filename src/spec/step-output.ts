/**
 * What each step kind outputs, as JSON Schema: the type check reads `steps.X.field` against it, and the
 * interpreter produces exactly these shapes.
 */
import type { JsonSchema, ToolCatalog } from './catalog.js';
import type { Step } from './schema.js';

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

/** The output schema of a step, or undefined when it is not known (a tool without a catalog). */
export function stepOutputSchema(step: Step, tools?: ToolCatalog): JsonSchema | undefined {
  switch (step.kind) {
    case 'tool':
      return tools?.get(step.tool)?.outputSchema;
    case 'llm':
      return step.output ?? TEXT;
    case 'approval':
      return APPROVAL_OUTPUT_SCHEMA;
    case 'wait':
      return WAIT_OUTPUT_SCHEMA;
  }
}
