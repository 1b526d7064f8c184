/**
 * The call step: a saved spec runs as a child run (`trellisRun`), with the input checked against its input
 * schema, within what is left of this run's budget. What the child used (tokens, cost, step executions) is added to
 * this run's, whether it completed or failed; a child stopped by its budget stops this run too. When a person asks
 * for a new plan (goal runs), a child still running is cancelled and the step withdrawn.
 */
import * as wf from '@temporalio/workflow';
import type { RunArgs, RunResult, RunUsage } from '../engine/messages.js';
import { formatUsd } from '../pricing/cost.js';
import type { Spec } from '../spec/schema.js';
import { WORKFLOW_TYPE } from './definitions.js';
import type { trellisRun } from './interpreter.js';
import { BudgetExceeded } from './budget.js';
import { Withdrawn } from './session.js';
import { checkPayload, type StepContext } from './step-context.js';

/** `call` steps nest at most this deep: saved specs that call each other stop here, not never. */
export const MAX_CALL_DEPTH = 5;

export async function runCall(ctx: StepContext, spec: Spec, input: unknown): Promise<unknown> {
  if (ctx.callDepth + 1 > MAX_CALL_DEPTH) {
    throw wf.ApplicationFailure.nonRetryable(
      `call steps nest more than ${MAX_CALL_DEPTH} deep (saved specs that call each other?)`,
      'TrellisCallTooDeep',
    );
  }
  const problems = await ctx.local.checkSpecInput(spec.input ?? null, input);
  if (problems.length > 0) throw wf.ApplicationFailure.nonRetryable(`input for spec ${spec.name}: ${problems.join('; ')}`, 'TrellisInputInvalid');
  const { session } = ctx;
  const what = `call step "${ctx.id}"`;
  // The child gets what is left; with nothing left it does not start.
  const maxSteps = session.budget.executionsLeft();
  if (maxSteps <= 0) throw new BudgetExceeded(`maxSteps ${session.budget.caps.maxSteps}: nothing left for ${what}`);
  const maxTokens = session.budget.tokensLeft();
  if (maxTokens !== undefined && maxTokens <= 0) throw new BudgetExceeded(`maxTokens ${session.budget.caps.maxTokens}: nothing left for ${what}`);
  const maxCost = session.budget.costLeft();
  if (maxCost !== undefined && maxCost <= 0) throw new BudgetExceeded(`maxCost ${formatUsd(session.budget.caps.maxCost!)}: nothing left for ${what}`);

  const childId = `${wf.workflowInfo().workflowId}.${ctx.id}`;
  const args: RunArgs = {
    spec,
    input,
    callDepth: ctx.callDepth + 1,
    options: { ...session.options, budget: { maxSteps, ...(maxTokens !== undefined && { maxTokens }), ...(maxCost !== undefined && { maxCost }) } },
  };
  checkPayload(ctx.session, `the input of spec ${spec.name}`, args);
  session.steps[ctx.id]!.run = childId;
  // The child runs in a scope of its own: a request for a new plan cancels it (it may be waiting for a person of
  // its own), and the step is withdrawn.
  const scope = new wf.CancellationScope();
  let settled = false;
  const child = scope.run(() =>
    wf.executeChild<typeof trellisRun>(WORKFLOW_TYPE, { workflowId: childId, args: [args], staticSummary: `call ${spec.name}` }),
  );
  void child.then(
    () => (settled = true),
    () => (settled = true),
  );
  await wf.condition(() => settled || session.stopping());
  if (!settled) {
    scope.cancel();
    await child.catch(() => undefined);
    throw new Withdrawn();
  }
  let result: RunResult;
  try {
    result = await child;
  } catch (e) {
    const cause = e instanceof wf.ChildWorkflowFailure ? e.cause : undefined;
    if (cause instanceof wf.ApplicationFailure) {
      const used = (cause.details?.[0] as { usage?: RunUsage } | undefined)?.usage;
      if (used) addChildUsage(ctx, used, what);
      if (cause.type === 'TrellisBudgetExceeded') {
        throw new BudgetExceeded(`${cause.message.replace(/^budget exceeded: /, '')} (in spec ${spec.name}, called by ${what})`);
      }
    }
    throw e;
  }
  addChildUsage(ctx, result, what);
  return result.output;
}

/** The child's tokens and cost are the call step's (when it called a model), and count against this run's budget. */
function addChildUsage(ctx: StepContext, used: RunUsage, what: string): void {
  if (used.tokens.total > 0 || used.cost) {
    Object.assign(ctx.session.steps[ctx.id]!, { tokens: used.tokens, ...(used.cost && { cost: used.cost }) });
  }
  ctx.session.budget.addUsage(used, what);
}
