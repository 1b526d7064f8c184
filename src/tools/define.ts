/**
 * defineTool: a typed function the interpreter can call, with zod input and output, and the policy that
 * decides when a person must approve a call (policy in code, not in the prompt).
 */
import type { z } from 'zod';
import { TrellisError } from '../errors.js';
import { DURATION_HELP, durationProblem } from '../spec/duration.js';

/** A tool's logger (`ctx.logger`): the activity's, so its lines go out with the worker's logs. `attrs` are structured fields. */
export interface ToolLogger {
  info(message: string, attrs?: Record<string, unknown>): void;
  warn(message: string, attrs?: Record<string, unknown>): void;
  error(message: string, attrs?: Record<string, unknown>): void;
  debug(message: string, attrs?: Record<string, unknown>): void;
}

/** What a tool's `run` gets besides its args. */
export interface ToolContext {
  /** Stable across retries of the same step of the same run: make side effects once with it. */
  idempotencyKey: string;
  /** 1 on the first try. */
  attempt: number;
  /**
   * Aborted when the activity times out or the worker shuts down. A run's cancellation reaches a running tool only
   * through a heartbeat (Temporal delivers it in the heartbeat's answer), so a long tool that should stop when its
   * run is cancelled heartbeats (`Context.current().heartbeat()` from `@temporalio/activity`).
   */
  signal: AbortSignal;
  /** Structured logs: `ctx.logger.info('refunded', { orderId })`. */
  logger: ToolLogger;
}

/** How a failed call of the tool is retried, by default; intervals are durations as in specs (`'1s'`, `'1m'`). */
export interface ToolRetry {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** The wait before the first retry. Default: Temporal's (1s). */
  initialInterval?: string;
  /** How much each wait grows. Default: Temporal's (2). */
  backoffCoefficient?: number;
  /** The longest wait between attempts. Default: Temporal's (100 times initialInterval). */
  maximumInterval?: string;
}

/** What defineTool takes: a name, a description, zod schemas in and out, the function, and its policy. */
export interface ToolDefinition<I extends z.ZodType, O extends z.ZodType> {
  /** How specs name the tool: letters, digits, _ and -, as model tool names allow. */
  name: string;
  /** What the tool does; the planner shows it to the model. */
  description: string;
  /**
   * The args' zod schema. Each call's args are checked against it before `run` (a mismatch fails the step, without a
   * retry); as JSON Schema it is what a spec's args are type-checked against.
   */
  input: I;
  /**
   * The zod schema of what `run` returns, checked after each call (a mismatch fails the step, without a retry); as
   * JSON Schema it is what `steps.X.field` references are type-checked against.
   */
  output: O;
  /**
   * 'required': every call waits for a person; a function: a person is needed unless it returns `false` (anything
   * else, a throw included, asks a person: policy fails closed).
   */
  approval?: 'required' | ((args: z.output<I>) => boolean);
  /**
   * Who may answer this tool's policy gate, by name or as `group:NAME`; anyone when absent. With a decision key on the
   * worker, the names are the identities `trellis serve` verified.
   */
  approvers?: readonly string[];
  /** Defaults for steps that call this tool; a step's own retry and timeout win (its retry replaces this one whole). */
  retry?: ToolRetry;
  /** How long one attempt may take, as a duration (`'30s'`). Default 5m. */
  timeout?: string;
  /**
   * Does the work, with the args as `input` parsed them. A throw fails the attempt, which is retried as `retry`
   * says: make side effects once with `ctx.idempotencyKey`.
   */
  run(args: z.output<I>, ctx: ToolContext): Promise<z.input<O>> | z.input<O>;
}

/** A tool made by defineTool: its definition, frozen and marked so that isTool and loadToolsModule know it. */
export interface Tool<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> extends ToolDefinition<I, O> {
  readonly [TOOL_BRAND]: true;
}

/** A global symbol, so a tool made by another copy of this package (dist vs src) is still recognised. */
export const TOOL_BRAND: unique symbol = Symbol.for('trellis.tool') as never;

/** What a tool name must match: a letter, then up to 63 letters, digits, `_` or `-`. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

/** A definition defineTool refuses; `code` is TOOL_DEFINITION, and the message names the tool and the field. */
export class ToolDefinitionError extends TrellisError {
  constructor(message: string) {
    super('TOOL_DEFINITION', message);
  }
}

/**
 * Makes a tool from its definition, checked at once: the name, the description, the zod schemas, `run`, `approval`
 * and the durations of `timeout` and `retry`. A tools module's default export is a list of these.
 *
 * @throws {ToolDefinitionError} (code TOOL_DEFINITION) for a definition it refuses, naming the field.
 * @example
 * ```ts
 * export const refundOrder = defineTool({
 *   name: 'refund_order',
 *   description: 'Refund an order in full.',
 *   input: z.object({ orderId: z.string(), amount: z.number() }),
 *   output: z.object({ refundId: z.string() }),
 *   approval: ({ amount }) => amount > 100, // a person approves refunds over 100
 *   run: ({ orderId, amount }, ctx) => payments.refund(orderId, amount, { idempotencyKey: ctx.idempotencyKey }),
 * });
 * ```
 */
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
  const approvers: unknown = definition.approvers;
  if (approvers !== undefined) {
    if (approval === undefined) throw new ToolDefinitionError(`${where}: approvers has no effect without approval`);
    if (!Array.isArray(approvers) || approvers.length === 0 || approvers.some((a) => typeof a !== 'string' || a.trim() === '' || a.length > 200)) {
      throw new ToolDefinitionError(`${where}: approvers must be a non-empty list of names (or group:NAME), each 1 to 200 characters`);
    }
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

/** Whether a value is a tool made by defineTool (by any copy of this package). */
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
