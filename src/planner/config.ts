/**
 * The planner's settings from the environment, read the same way by the worker (goal runs), `trellis plan` and
 * `trellis eval`, so a plan previewed or evaluated is planned as a goal run would plan it:
 * TRELLIS_PLANNER_PROMPT (a prompt file; default prompts/planner.md) and TRELLIS_PLANNER_SCHEMA (outline | full).
 */

/** The JSON Schema the planner sends as `response_format` (see PlanRequest.schema). */
export type PlannerSchema = 'outline' | 'full';
export const PLANNER_SCHEMAS: readonly PlannerSchema[] = ['outline', 'full'];

export interface PlannerConfig {
  promptFile?: string;
  schema?: PlannerSchema;
}

/** A planner setting that names no known value. */
export class PlannerConfigError extends Error {
  readonly code = 'PLANNER_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'PlannerConfigError';
  }
}

export function parsePlannerSchema(value: string, source: string): PlannerSchema {
  if ((PLANNER_SCHEMAS as readonly string[]).includes(value)) return value as PlannerSchema;
  throw new PlannerConfigError(`${source} must be ${PLANNER_SCHEMAS.join(' or ')}, got "${value}"`);
}

export function plannerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PlannerConfig {
  return {
    ...(env.TRELLIS_PLANNER_PROMPT && { promptFile: env.TRELLIS_PLANNER_PROMPT }),
    ...(env.TRELLIS_PLANNER_SCHEMA && { schema: parsePlannerSchema(env.TRELLIS_PLANNER_SCHEMA, 'TRELLIS_PLANNER_SCHEMA') }),
  };
}
