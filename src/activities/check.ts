/**
 * The first thing every run does: a local activity in which the worker checks the run's argument with its own tools
 * and saved specs (src/contract/check.ts) and tells the run its limits. An invalid run gets its problems back, not
 * an error: the workflow fails it at once, non-retryably, before any side effect.
 */
import { checkGoalArgs, checkRunArgs } from '../contract/check.js';
import type { GoalCheck, RunCheck, ToolInfo, WorkerFacts } from '../engine/messages.js';
import type { Spec } from '../spec/schema.js';
import type { ToolCatalog } from '../spec/catalog.js';
import type { SpecLibrary } from '../spec/uses.js';
import { toolsUsed } from '../spec/uses.js';

export interface CheckActivityDeps {
  catalog: ToolCatalog;
  worker: WorkerFacts;
  describeTools(names: string[]): Promise<ToolInfo>;
  readCalled(names: string[]): Promise<SpecLibrary>;
}

export function createCheckActivities(deps: CheckActivityDeps) {
  return {
    async checkRun(raw: unknown): Promise<RunCheck> {
      const verdict = await checkRunArgs(raw, deps);
      if (!verdict.ok) return { ok: false, problems: verdict.problems, worker: deps.worker };
      const library: Record<string, Spec> = Object.fromEntries(verdict.library);
      return { ok: true, toolInfo: await deps.describeTools(toolsUsed(verdict.spec)), library, worker: deps.worker };
    },

    async checkGoal(raw: unknown): Promise<GoalCheck> {
      return { problems: checkGoalArgs(raw), worker: deps.worker };
    },
  };
}
