/**
 * defineTool: a typed function the interpreter can call, with zod input and output, and the policy that
 * decides when a person must approve a call (policy in code, not in the prompt).
 */
import type { z } from 'zod';
import { TrellisError } from '../errors.js';
import { DURATION_HELP, durationProblem } from '../spec/duration.js';

export interface ToolLogger {
  info(message: string, attrs?: Record<string, unknown>): void;
  warn(message: string, attrs?: Record<string, unknown>): void;
  error(message: string, attrs?: Record<string, unknown>): void;
  debug(message: string, attrs?: Record<string, unknown>): void;
}

export interface ToolContext {
  /** Stable across retries of the same step of the same run: make side effects once with it. */
  idempotencyKey: string;
  /** 1 on the first try. */
  attempt: number;
  /** Aborted when the run is cancelled or the activity times out. */
  signal: AbortSignal;
  logger: ToolLogger;
}

export interface ToolRetry {
  maxAttempts?: number;
  initialInterval?: string;
  backoffCoefficient?: number;
  maximumInterval?: string;
}

export interface ToolDefinition<I extends z.ZodType, O extends z.ZodType> {
  /** How specs name the tool: letters, digits, _ and -, as model tool names allow. */
  name: string;
  /** What the tool does; the planner shows it to the model. */
  description: string;
  input: I;
  output: O;
  /**
   * 'required': every call waits for a person; a function: a person is needed unless it returns `false` (anything
   * else, a throw included, asks a person: policy fails closed).
   */
  approval?: 'required' | ((args: z.output<I>) => boolean);
  /** Defaults for steps that call this tool; a step's own retry and timeout win. */
  retry?: ToolRetry;
  timeout?: string;
  run(args: z.output<I>, ctx: ToolContext): Promise<z.input<O>> | z.input<O>;
}

export interface Tool<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> extends ToolDefinition<I, O> {
  readonly [TOOL_BRAND]: true;
}

/** A global symbol, so a tool made by another copy of this package (dist vs src) is still recognised. */
export const TOOL_BRAND: unique symbol = Symbol.for('trellis.tool') as never;

export const TOOL_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

export class ToolDefinitionError extends TrellisError {
  constructor(message: string) {
    super('TOOL_DEFINITION', message);
  }
}

export function defineTool<I extends z.ZodType, O extends z.ZodType>(definition: ToolDefinition<I, O>): Tool<I, O> {
  const where = `defineTool(${JSON.stringify(definition?.name)})`;
  if (typeof definition?.name !== 'string' || !TOOL_NAME_PATTERN.test(definition.name)) {
    throw new ToolDefinitionError(`${where}: name must be letters, digits, _ or -, starting with a letter (at most 64)`);
  }
  if (typeof definition.description !== 'string' || definition.description.trim() === '') {
    throw new ToolDefinitionError(`${where}: description is required (the planner shows it to the model)`);
  }
  for (const field of ['input', 'output'] as const) {
    const schema = definition[field] as { safeParse?: unknown } | undefined;
    if (typeof schema?.safeParse !== 'function') throw new ToolDefinitionError(`${where}: ${field} must be a zod schema`);
  }
  if (typeof definition.run !== 'function') throw new ToolDefinitionError(`${where}: run must be a function`);
  const approval = definition.approval;
  if (approval !== undefined && approval !== 'required' && typeof approval !== 'function') {
    throw new ToolDefinitionError(`${where}: approval must be 'required' or a function of the args`);
  }
  const durations = {
    timeout: definition.timeout,
    'retry.initialInterval': definition.retry?.initialInterval,
    'retry.maximumInterval': definition.retry?.maximumInterval,
  };
  for (const [field, value] of Object.entries(durations)) {
    const problem =
      value === undefined ? undefined : typeof value === 'string' ? durationProblem(value) : `invalid duration ${String(value)}: ${DURATION_HELP}`;
    if (problem) throw new ToolDefinitionError(`${where}: ${field}: ${problem}`);
  }
  return Object.freeze({ ...definition, [TOOL_BRAND]: true as const });
}

export function isTool(value: unknown): value is Tool {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TOOL_BRAND] === true;
}

/**
 * Whether this call needs a person first. Policy fails closed: only a plain `false` from the policy lets the call
 * run unasked; anything else (true, 'yes', undefined, a promise) means a person decides, and so does a throw, whose
 * message comes back in `error` for the gate's details.
 */
export function policyVerdict(tool: Tool, args: unknown): { needsApproval: boolean; error?: string } {
  if (tool.approval === undefined) return { needsApproval: false };
  if (tool.approval === 'required') return { needsApproval: true };
  try {
    return { needsApproval: tool.approval(args as never) !== false };
  } catch (e) {
    return { needsApproval: true, error: (e as Error)?.message ?? String(e) };
  }
}

/** How the catalog and the workflow see a tool's policy. */
export function approvalSetting(tool: Tool): 'never' | 'required' | 'conditional' {
  return tool.approval === undefined ? 'never' : tool.approval === 'required' ? 'required' : 'conditional';
}
