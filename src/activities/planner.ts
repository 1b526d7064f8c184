/**
 * The planner as an activity, for goal runs: the worker's tools are the catalog, the prompt is the planner's
 * file (or the worker's own). A plan still invalid after the repair budget is a result, not an error: the
 * workflow fails the run with its problems, and retrying would only spend tokens.
 */
import type OpenAI from 'openai';
import type { PlanCall, PlanCallResult } from '../engine/messages.js';
import type { PlannerConfig } from '../planner/config.js';
import { loadPrompt, planSpec } from '../planner/plan.js';
import type { ToolCatalog } from '../spec/catalog.js';
import { formatProblem } from '../spec/problems.js';
import { PLAN_STEP } from '../engine/plan-review.js';
import { refusedByEndpoint } from './llm.js';

export function createPlannerActivities(client: OpenAI, model: string, catalog: ToolCatalog, planner: PlannerConfig = {}) {
  return {
    async planGoal(call: PlanCall): Promise<PlanCallResult> {
      // Read at each call: an edited prompt applies to the next plan without restarting the worker.
      const prompt = await loadPrompt(planner.promptFile);
      let result;
      try {
        result = await planSpec(client, {
          goal: call.goal,
          catalog,
          model,
          prompt,
          ...(planner.schema && { schema: planner.schema }),
          reservedIds: [PLAN_STEP],
          ...(call.input !== undefined && { input: call.input }),
          ...(call.maxTokens !== undefined && { maxTokens: call.maxTokens }),
          ...(call.feedback && { feedback: feedbackText(call.feedback) }),
        });
      } catch (e) {
        throw refusedByEndpoint(e) ?? e;
      }
      if (result.ok) return result;
      return { ...result, problems: result.problems.map(formatProblem) };
    },
  };
}

function feedbackText(f: NonNullable<PlanCall['feedback']>): string {
  const done = Object.keys(f.done);
  return [
    `A person asked for a different plan: ${JSON.stringify(f.comment)}`,
    `The plan they saw: ${JSON.stringify(f.previous)}`,
    done.length === 0
      ? 'No step of it has run.'
      : `These steps already ran; keep each one unchanged (same id, same fields) where you still need it, so it is not run again. Their outputs: ${JSON.stringify(f.done)}`,
  ].join('\n');
}
