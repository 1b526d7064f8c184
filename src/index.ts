/**
 * `trellis`: the spec language, tools and the planner. Light on purpose: a tools module imports `defineTool` from
 * here, so this entry loads neither Temporal nor the model client. The client is `trellis/client`, the worker
 * `trellis/worker`, the dev server `trellis/temporal`, the mock LLM `trellis/testing`, eval suites `trellis/evals`.
 *
 *   import { defineTool } from 'trellis';
 *   import { z } from 'zod';
 *   export default [defineTool({ name: 'lookup_order', description: '...', input: z.object({ orderId: z.string() }),
 *     output: z.object({ total: z.number() }), run: async ({ orderId }) => orders.get(orderId) })];
 */
export * from './spec/index.js';

// Tools: typed functions with their policy in code, and the catalog a validator and a planner read.
export {
  defineTool,
  isTool,
  policyVerdict,
  TOOL_NAME_PATTERN,
  ToolDefinitionError,
  type Tool,
  type ToolContext,
  type ToolDefinition,
  type ToolLogger,
  type ToolRetry,
} from './tools/define.js';
export { describeTool, toolCatalog } from './tools/catalog.js';
export { loadToolsModule, ToolsModuleError } from './tools/load.js';

// The planner: a model writes a spec for a goal from a catalog, repaired with the validator's problems.
export { loadPrompt, planSpec, type PlanRequest, type PlanResult } from './planner/plan.js';
export { parsePlannerSchema, plannerConfigFromEnv, PlannerConfigError, type PlannerConfig, type PlannerSchema } from './planner/config.js';
export { catalogText } from './planner/catalog-text.js';

// What a run is and says, as every client sees it (docs/temporal-api.md).
export type {
  ApprovalDecision,
  ApprovalResult,
  EarlierPlan,
  GoalArgs,
  GoalRecord,
  GoalResult,
  PayloadLimits,
  PendingApproval,
  RefusedAnswer,
  RunArgs,
  RunFailureDetails,
  RunOptions,
  RunProblem,
  RunResult,
  RunUsage,
  RunView,
} from './engine/messages.js';
export { RUN_STATUSES, type RunStatus, type StepState, type StepStatus, type TokenUsage } from './engine/state.js';
export { FAILURES, type FailureCode, type FailureType } from './engine/failures.js';
export { REFUSAL_CODES, type RefusalCode } from './engine/decision.js';

// Configuration from the environment, and the one error base.
export {
  ConfigError,
  DEFAULT_TASK_QUEUE,
  limitsFromEnv,
  temporalConfig,
  temporalConfigFromEnv,
  WORKER_ENV,
  workerConfigFromEnv,
  type TemporalConfig,
  type WorkerConfig,
} from './config.js';
export { TrellisError } from './errors.js';
