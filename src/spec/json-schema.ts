import { z } from 'zod';
import { SpecSchema } from './schema.js';

/** The spec's JSON Schema: for editors (`$schema`), `trellis schema`, and the planner's structured output. */
export function specJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(SpecSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
