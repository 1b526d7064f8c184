/** Every activity a Trellis worker registers, built from its tools, its model client and its saved specs. */
import type OpenAI from 'openai';
import type { PlannerConfig } from '../planner/config.js';
import { DEFAULT_SPECS_DIR } from '../library/saved-specs.js';
import { toolCatalog } from '../tools/catalog.js';
import type { Tool } from '../tools/define.js';
import { createAgentActivities } from './agent.js';
import { createLlmActivities } from './llm.js';
import { createPlannerActivities } from './planner.js';
import { createSpecActivities } from './specs.js';
import { createToolActivities } from './tools.js';

export interface ActivityDeps {
  tools: readonly Tool[];
  llm: OpenAI;
  model: string;
  /** The folder of saved specs that `call` steps name. Default ./specs. */
  specsDir?: string;
  /** The planner's prompt file and schema form for goal runs. Default prompts/planner.md, outline. */
  planner?: PlannerConfig;
}

export function createActivities(deps: ActivityDeps) {
  const catalog = toolCatalog(deps.tools);
  return {
    ...createToolActivities(deps.tools),
    ...createLlmActivities(deps.llm, deps.model),
    ...createAgentActivities(deps.llm, deps.model, deps.tools),
    ...createSpecActivities(deps.specsDir ?? DEFAULT_SPECS_DIR, catalog),
    ...createPlannerActivities(deps.llm, deps.model, catalog, deps.planner, deps.specsDir ?? DEFAULT_SPECS_DIR),
  };
}

export { createAgentActivities, createLlmActivities, createPlannerActivities, createSpecActivities, createToolActivities };
