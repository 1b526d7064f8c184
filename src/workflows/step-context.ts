/**
 * What a step's execution needs from the run around it: the session (budget, people), the activities, and a
 * tool call with its policy gate. The interpreter builds one per step; the agent and map steps use it for
 * each of their model turns, tool calls and items.
 */
import * as wf from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { contentHash } from '../engine/canonical.js';
import type { LlmCall, LlmCallResult, ToolCallResult, ToolInfo } from '../engine/messages.js';
import { jsonBytes } from '../engine/payload.js';
import { addTokens, type TokenUsage } from '../engine/state.js';
import { addCost } from '../pricing/cost.js';
import { TrellisError } from '../errors.js';
import { parseDuration } from '../spec/duration.js';
import type { Retry, Step } from '../spec/schema.js';
import { oneLine } from '../spec/text.js';
import type { RunSession } from './session.js';

export type Activities = ReturnType<typeof createActivities>;

export const DEFAULT_ACTIVITY_TIMEOUT = '5m';

/** A person said no to a gated tool call. */
export class GateDenied extends TrellisError {
  constructor(message: string) {
    super('GATE_DENIED', message);
  }
}

export interface StepContext {
  id: string;
  step: Step;
  session: RunSession;
  acts: wf.ActivityInterfaceFor<Activities>;
  /** Local activities: quick questions to the worker (a called spec's input check). */
  local: wf.LocalActivityInterfaceFor<Activities>;
  /** This step's place in this run (workflow id, run id, step id); sub-calls append their position to it. */
  key: string;
  toolInfo: ToolInfo;
  /** The run's parallel limit: a map's items and an agent's tool calls of one turn stay within it too. */
  maxParallel: number;
  /** How deep in `call` steps this run is. */
  callDepth: number;
}

/** Activity options from the step's timeout and retry, else the tool's defaults, else Trellis's. */
export function activityOptions(
  step: Step,
  summary: string,
  defaults: { timeout?: string | undefined; retry?: Retry | undefined } = {},
): ActivityOptions {
  const timeout = step.timeout ?? defaults.timeout ?? DEFAULT_ACTIVITY_TIMEOUT;
  const r = step.retry ?? defaults.retry;
  return {
    startToCloseTimeout: parseDuration(timeout)!,
    summary,
    retry: {
      maximumAttempts: r?.maxAttempts ?? 3,
      ...(r?.initialInterval !== undefined && { initialInterval: parseDuration(r.initialInterval)! }),
      ...(r?.backoffCoefficient !== undefined && { backoffCoefficient: r.backoffCoefficient }),
      ...(r?.maximumInterval !== undefined && { maximumInterval: parseDuration(r.maximumInterval)! }),
    },
  };
}

/**
 * Calls a tool; when its policy wants a person for these args, the gate is addressed by the step's id and the
 * tool runs only once approved. Throws GateDenied on a denial. Returns the output and the attempts it took.
 *
 * The tool's idempotency key is its place (`key`) and a hash of the call (tool and args): the same on every retry
 * and replay, the same for the same call made again at the same place (a step kept across a replan, an agent or
 * map re-run), and different for a different call there (a step of a new plan that reuses an id).
 */
export async function callTool(
  ctx: StepContext,
  tool: string,
  args: Record<string, unknown>,
  key: string,
  summary: string,
): Promise<{ output: unknown; attempts: number }> {
  const defaults = Object.hasOwn(ctx.toolInfo, tool) ? ctx.toolInfo[tool] : undefined;
  const options = activityOptions(ctx.step, summary, defaults);
  const call = { step: ctx.id, tool, args, idempotencyKey: `${key}#${contentHash({ tool, args })}` };
  checkPayload(ctx.session, `the args of ${tool}`, call);
  // A tool that always needs a person is gated before it is called; a conditional one says so when asked.
  let result: ToolCallResult =
    defaults?.approval === 'required' ? { ran: false, needsApproval: true, attempt: 0 } : await ctx.acts.runTool.executeWithOptions(options, [call]);
  let attempts = result.attempt;
  if (!result.ran) {
    // The person sees what the call would do: the tool and its args, in the title and in full in the details.
    const policy = result.policyError ? `\n(the policy of ${tool} threw: ${result.policyError}; so a person decides)` : '';
    const decision = (await ctx.session.waitForPerson(
      {
        step: ctx.id,
        title: `Allow ${tool}(${argsGist(args)}) in step ${ctx.id}?`,
        details: `${JSON.stringify(args)}${policy}`,
        args,
        ...(defaults?.approvers && { approvers: defaults.approvers }),
        source: 'policy',
      },
      undefined,
      'deny',
    ))!;
    if (!decision.approved)
      throw new GateDenied(`${tool} was not approved${decision.by ? ` by ${decision.by}` : ''}${decision.comment ? `: ${decision.comment}` : ''}`);
    result = await ctx.acts.runTool.executeWithOptions({ ...options, summary: `${summary} (approved)` }, [{ ...call, approvedBy: decision.by }]);
    attempts += result.attempt;
    if (!result.ran) throw wf.ApplicationFailure.nonRetryable(`${tool} still needs approval after it was approved`);
  }
  return { output: result.output, attempts };
}

/**
 * One model call (an llm step or a map's llm item) within the run's token and cost budget: checked before, added
 * after (to the step's state and the run's), and added too when the reply was still invalid after its re-ask (the
 * failure carries the tokens it spent).
 */
export async function callModel(ctx: StepContext, call: Omit<LlmCall, 'step'>, summary: string, what: string): Promise<LlmCallResult> {
  ctx.session.budget.checkTokens(what, call.model);
  const request: LlmCall = { step: ctx.id, ...call };
  checkPayload(ctx.session, `the prompt of ${what}`, request);
  let result: LlmCallResult;
  try {
    result = await ctx.acts.callLlm.executeWithOptions(activityOptions(ctx.step, summary), [request]);
  } catch (e) {
    const cause = e instanceof wf.ActivityFailure ? e.cause : undefined;
    if (cause instanceof wf.ApplicationFailure && cause.type === 'TrellisModelReplyInvalid') {
      const spent = (cause.details?.[0] as { tokens?: LlmCallResult['tokens'] } | undefined)?.tokens;
      // The reply does not say which model answered: priced as the one asked for.
      if (spent) spend(ctx, spent, call.model ?? ctx.session.worker.model, what);
    }
    throw e;
  }
  spend(ctx, result.tokens, result.model, what);
  return result;
}

/** A model call's tokens and their cost, added to the step's state and then to the run's budget (which may throw). */
export function spend(ctx: StepContext, tokens: TokenUsage, model: string | undefined, what: string): void {
  const cost = ctx.session.budget.price(model, tokens);
  const state = ctx.session.steps[ctx.id]!;
  Object.assign(state, { tokens: addTokens(state.tokens, tokens), cost: addCost(state.cost, cost) });
  ctx.session.budget.addTokens(tokens, what, cost);
}

/**
 * Runs `work` for each index below `count`, at most `limit` at once, in index order; stops taking new ones when
 * `stop` says. `work` catches its own errors: a throw would end the wait while other lanes still run.
 */
export async function inLanes(count: number, limit: number, work: (index: number) => Promise<void>, stop: () => boolean): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (!stop() && next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(limit, count)) }, lane));
}

/**
 * Throws a non-retryable TrellisPayloadTooLarge when `value` is over the payload limit as JSON: the call is not made
 * (Temporal would refuse it, and a run that cannot send it could only fail later, or loop).
 */
export function checkPayload(session: RunSession, what: string, value: unknown): void {
  const limit = session.worker.limits.payloadBytes;
  const bytes = jsonBytes(value);
  if (bytes > limit) {
    const n = (x: number) => x.toLocaleString('en-US');
    throw wf.ApplicationFailure.nonRetryable(`${what} is ${n(bytes)} bytes, over the payload limit of ${n(limit)} bytes`, 'TrellisPayloadTooLarge');
  }
}

/** A gated call's args on one line, for the gate's title: `orderId: "A-1004", amount: 500`. */
function argsGist(args: Record<string, unknown>): string {
  return oneLine(
    Object.entries(args)
      .map(([k, v]) => `${k}: ${JSON.stringify(v) ?? 'null'}`)
      .join(', '),
    160,
  );
}

/** The cause a person can act on, without Temporal's wrapping. */
export function describeError(e: unknown): string {
  if ((e instanceof wf.ActivityFailure || e instanceof wf.ChildWorkflowFailure) && e.cause) return describeError(e.cause);
  if (e instanceof wf.ApplicationFailure && e.cause) return `${e.message}: ${describeError(e.cause)}`;
  return (e as Error)?.message ?? String(e);
}
