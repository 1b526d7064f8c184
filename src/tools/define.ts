/**
 * defineTool: a typed function the interpreter can call, with zod input and output, and the policy that
 * decides when a person must approve a call (policy in code, not in the prompt).
 */
import type { z } from 'zod';

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
  /** 'required': every call waits for a person; a function: a person is needed when it returns true. */
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

export class ToolDefinitionError extends Error {
  readonly code = 'TOOL_DEFINITION';
  constructor(message: string) {
    super(message);
    this.name = 'ToolDefinitionError';
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
  return Object.freeze({ ...definition, [TOOL_BRAND]: true as const });
}

export function isTool(value: unknown): value is Tool {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TOOL_BRAND] === true;
}

/** Whether this call needs a person first. */
export function needsApproval(tool: Tool, args: unknown): boolean {
  if (tool.approval === 'required') return true;
  if (typeof tool.approval === 'function') return tool.approval(args as never) === true;
  return false;
}
