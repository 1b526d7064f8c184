/**
 * The planner's settings from the environment, read the same way by the worker (goal runs), `trellis plan` and
 * `trellis eval`, so a plan previewed or evaluated is planned as a goal run would plan it:
 * TRELLIS_PLANNER_PROMPT (a prompt file; default prompts/planner.md) and TRELLIS_PLANNER_SCHEMA (outline | full).
 */
import { TrellisError } from '../errors.js';

/** The JSON Schema the planner sends as `response_format` (see PlanRequest.schema). */
export type PlannerSchema = 'outline' | 'full';
export const PLANNER_SCHEMAS: readonly PlannerSchema[] = ['outline', 'full'];

/** The planner's settings for goal runs, `trellis plan` and `trellis eval`; plannerConfigFromEnv reads them. */
export interface PlannerConfig {
  /** The prompt template file. Default prompts/planner.md (TRELLIS_PLANNER_PROMPT). */
  promptFile?: string;
  /** The response schema's form. Default outline (TRELLIS_PLANNER_SCHEMA). */
  schema?: PlannerSchema;
}

/** A planner setting that names no known value. */
export class PlannerConfigError extends TrellisError {
  constructor(message: string) {
    super('PLANNER_CONFIG', message);
  }
}

/** `value` as a PlannerSchema; throws PlannerConfigError (code PLANNER_CONFIG), naming `source`, for anything but outline or full. */
export function parsePlannerSchema(value: string, source: string): PlannerSchema {
  if ((PLANNER_SCHEMAS as readonly string[]).includes(value)) return value as PlannerSchema;
  throw new PlannerConfigError(`${source} must be ${PLANNER_SCHEMAS.join(' or ')}, got "${value}"`);
}

/**
 * TRELLIS_PLANNER_PROMPT and TRELLIS_PLANNER_SCHEMA as a PlannerConfig (an unset or empty one is left out). Throws
 * PlannerConfigError for a schema that is not outline or full.
 */
export function plannerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PlannerConfig {
  return {
    ...(env.TRELLIS_PLANNER_PROMPT && { promptFile: env.TRELLIS_PLANNER_PROMPT }),
    ...(env.TRELLIS_PLANNER_SCHEMA && { schema: parsePlannerSchema(env.TRELLIS_PLANNER_SCHEMA, 'TRELLIS_PLANNER_SCHEMA') }),
  };
}
