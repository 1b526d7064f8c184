/** A run's input against a spec's input schema: the client checks it before a run starts, a call step before its child run, the planner before it offers a plan. */
import type { JsonSchema } from './catalog.js';
import { problem, type Problem } from './problems.js';
import { checkValue } from './schema-check.js';

/** Every way `input` does not match `schema`, each a TYPE problem at its path under `input`; none when the spec declares no input. */
export function inputProblems(schema: JsonSchema | null | undefined, input: unknown): Problem[] {
  if (!schema) return [];
  return checkValue(schema, input).map((i) => problem('TYPE', ['input', ...i.path], i.message));
}
