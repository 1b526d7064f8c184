/** Saved specs for `call` steps: loaded (and validated) once per run, and a call's input checked. */
import { ApplicationFailure } from '@temporalio/activity';
import { readCalledSpecs, SavedSpecError } from '../library/saved-specs.js';
import { inputProblems } from '../spec/input.js';
import { formatProblem } from '../spec/problems.js';
import type { Spec } from '../spec/schema.js';
import type { ToolCatalog } from '../spec/catalog.js';

export function createSpecActivities(dir: string, catalog: ToolCatalog) {
  return {
    async loadSpecs(names: string[]): Promise<Record<string, Spec>> {
      try {
        const called = await readCalledSpecs(dir, names, catalog);
        return Object.fromEntries(names.map((n) => [n, called.get(n)!]));
      } catch (e) {
        if (e instanceof SavedSpecError)
          throw ApplicationFailure.nonRetryable(e.message, e.code === 'SPEC_NOT_FOUND' ? 'TrellisUnknownSpec' : 'TrellisSpecInvalid');
        throw e;
      }
    },

    /** Problems of a call's input against the called spec's input schema, as "path: message" lines. */
    async checkSpecInput(schema: Record<string, unknown> | null, input: unknown): Promise<string[]> {
      return inputProblems(schema, input).map(formatProblem);
    },
  };
}
