/** Every activity a Trellis worker registers, built from its tools, its model client and its saved specs. */
import type OpenAI from 'openai';
import type { WorkerFacts } from '../engine/messages.js';
import { DEFAULT_PAYLOAD_LIMITS } from '../engine/payload.js';
import type { PlannerConfig } from '../planner/config.js';
import { DEFAULT_SPECS_DIR, readCalledSpecs } from '../library/saved-specs.js';
import { toolCatalog } from '../tools/catalog.js';
import type { Tool } from '../tools/define.js';
import { createAgentActivities } from './agent.js';
import { createCheckActivities } from './check.js';
import { createLlmActivities } from './llm.js';
import { createPeopleActivities } from './people.js';
import { createPlannerActivities } from './planner.js';
import { createSpecActivities } from './specs.js';
import { createToolActivities } from './tools.js';
import { countingModelCalls } from '../metrics/model-calls.js';
import { createNotifyActivities } from '../notify/activity.js';
import type { NotifyConfig } from '../notify/config.js';

/** What the activities are made of. Unlike createTrellisWorker, nothing here is read from the environment. */
export interface ActivityDeps {
  /** The tools runs may call. */
  tools: readonly Tool[];
  /** The OpenAI-compatible client that llm and agent steps and the planner call (createLlmClient makes one). */
  llm: OpenAI;
  /** The model for steps that name none, and for the planner. */
  model: string;
  /** The folder of saved specs that `call` steps name. Default ./specs. */
  specsDir?: string;
  /** The planner's prompt file and schema form for goal runs. Default prompts/planner.md, outline. */
  planner?: PlannerConfig;
  /** What runs learn of this worker before their first step: its limits, the status search attribute. */
  worker?: WorkerFacts;
  /** Where notifications go; none by default (runs send them only when `worker.notify` is set). */
  notify?: NotifyConfig;
}

/**
 * Every activity a Trellis worker registers, by name, for a Worker you create yourself (`activities:` of
 * Worker.create, with the workflows from workflowsPath() or bundleWorkflows()). Add payloadLimitInterceptor too.
 */
export function createActivities(deps: ActivityDeps) {
  const catalog = toolCatalog(deps.tools);
  const specsDir = deps.specsDir ?? DEFAULT_SPECS_DIR;
  const tools = createToolActivities(deps.tools);
  const { callLlm } = createLlmActivities(deps.llm, deps.model);
  const { callAgentTurn } = createAgentActivities(deps.llm, deps.model, deps.tools);
  const { planGoal } = createPlannerActivities(deps.llm, deps.model, catalog, deps.planner, specsDir);
  const prices = deps.worker?.prices ?? {};
  return {
    ...tools,
    callLlm: countingModelCalls(prices, (call) => call.model ?? deps.model, callLlm),
    callAgentTurn: countingModelCalls(prices, (call) => call.model ?? deps.model, callAgentTurn),
    ...createSpecActivities(specsDir, catalog),
    planGoal: countingModelCalls(prices, () => deps.model, planGoal),
    ...createPeopleActivities(),
    ...createNotifyActivities(deps.notify ?? NO_NOTIFY),
    ...createCheckActivities({
      catalog,
      worker: deps.worker ?? { limits: DEFAULT_PAYLOAD_LIMITS },
      describeTools: tools.describeTools,
      readCalled: (names) => readCalledSpecs(specsDir, names, catalog),
    }),
  };
}

const NO_NOTIFY: NotifyConfig = { targets: [], links: { publicUrl: '', temporalUiUrl: '', namespace: 'default' } };

export {
  createAgentActivities,
  createCheckActivities,
  createLlmActivities,
  createPeopleActivities,
  createPlannerActivities,
  createSpecActivities,
  createToolActivities,
};
