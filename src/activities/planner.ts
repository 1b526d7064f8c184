/**
 * The planner as an activity, for goal runs: the worker's tools are the catalog, the prompt is the planner's
 * file (or the worker's own). A plan still invalid after the repair budget is a result, not an error: the
 * workflow fails the run with its problems, and retrying would only spend tokens.
 */
import { ApplicationFailure, log } from '@temporalio/activity';
import { EmptyReplyError } from '../llm/chat.js';
import type OpenAI from 'openai';
import { readSpecLibrary, SavedSpecError } from '../library/saved-specs.js';
import type { SpecLibrary } from '../spec/uses.js';
import type { PlanCall, PlanCallResult } from '../engine/messages.js';
import type { PlannerConfig } from '../planner/config.js';
import { loadPrompt, planSpec } from '../planner/plan.js';
import type { ToolCatalog } from '../spec/catalog.js';
import { formatProblem } from '../spec/problems.js';
import { PLAN_STEP } from '../engine/plan-review.js';
import { refusedByEndpoint } from './llm.js';
import { activityAttributes } from '../telemetry/activity-spans.js';
import { inSpan } from '../telemetry/spans.js';

export function createPlannerActivities(client: OpenAI, model: string, catalog: ToolCatalog, planner: PlannerConfig = {}, specsDir?: string) {
  return {
    async planGoal(call: PlanCall): Promise<PlanCallResult> {
      // Read at each call: an edited prompt or a newly saved spec applies to the next plan without a restart.
      const [prompt, specs] = await Promise.all([loadPrompt(planner.promptFile), specsDir === undefined ? undefined : savedSpecs(specsDir, catalog)]);
      let result;
      try {
        result = await inSpan('plan', activityAttributes(PLAN_STEP), () =>
          planSpec(client, {
            goal: call.goal,
            catalog,
            model,
            prompt,
            ...(planner.schema && { schema: planner.schema }),
            reservedIds: [PLAN_STEP],
            ...(specs && { specs }),
            ...(call.input !== undefined && { input: call.input }),
            ...(call.maxTokens !== undefined && { maxTokens: call.maxTokens }),
            ...(call.feedback && { feedback: feedbackText(call.feedback) }),
          }),
        );
      } catch (e) {
        if (e instanceof EmptyReplyError) throw ApplicationFailure.nonRetryable(e.message, 'TrellisModelReplyEmpty');
        throw refusedByEndpoint(e) ?? e;
      }
      // The tokens are priced as the planner's model (the workflow does not know the worker's planner model).
      if (result.ok) return { ...result, model };
      return { ...result, problems: result.problems.map(formatProblem), model };
    },
  };
}

/**
 * The saved specs a plan's call steps may name; none when the folder does not exist. A library that does not load
 * (an invalid spec in it) is left out with a warning: the plan can still use tools, and a call to a bad spec would
 * fail the run before its first step anyway.
 */
async function savedSpecs(dir: string, catalog: ToolCatalog): Promise<SpecLibrary | undefined> {
  try {
    return await readSpecLibrary(dir, catalog);
  } catch (e) {
    if (!(e instanceof SavedSpecError)) throw e;
    if (e.code !== 'SPECS_DIR_UNREADABLE') log.warn('the planner does not offer saved specs: they do not load', { error: e.message });
    return undefined;
  }
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
