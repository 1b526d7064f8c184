/**
 * A goal run: plan in an activity, optionally wait for a person to approve the plan (the step "plan"), then run
 * it in the same session, so status and approvals keep the interpreter's contract. A person who denies with a
 * comment (the plan itself, or any approval or gated tool while it runs) asks for a new plan: the planner gets
 * the comment, the plan they saw and the outputs of the steps that already ran; those steps, kept unchanged in
 * the new plan, are not run again.
 */
import * as wf from '@temporalio/workflow';
import type { GoalArgs, GoalResult, PlanCall } from '../engine/messages.js';
import { carriedOver, PLAN_STEP, planSummary, type DoneStep } from '../engine/plan-review.js';
import { overBudget } from '../estimate/budget.js';
import { estimateSpec, type SpecEstimate } from '../estimate/estimate.js';
import { estimateSummary } from '../estimate/format.js';
import { addTokens } from '../engine/state.js';
import { addCost } from '../pricing/cost.js';
import type { Spec } from '../spec/schema.js';
import { refuse, settle } from './settle.js';
import { inRunSpan } from '../telemetry/workflow-spans.js';
import { runSpec } from './run-spec.js';
import { BudgetExceeded } from './budget.js';
import { RunSession, type Gate } from './session.js';
import { checkPayload, describeError, type Activities } from './step-context.js';

const DEFAULT_MAX_PLANS = 3;

type Feedback = { comment: string; step: string; previous: Spec; done: Record<string, DoneStep> };

const check = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });

export async function trellisGoal(args: GoalArgs): Promise<GoalResult> {
  return inRunSpan('goal', () => pursue(args));
}

async function pursue(args: GoalArgs): Promise<GoalResult> {
  const raw: unknown = args;
  // Trusted only once the worker has checked it: until then, only what reads safely from anything.
  const text = raw !== null && typeof raw === 'object' && typeof (raw as GoalArgs).goal === 'string' ? (raw as GoalArgs).goal : '';
  const session = new RunSession(text.trim() === '' ? 'invalid goal run' : `goal: ${text}`.slice(0, 200));
  const goal: NonNullable<RunSession['goal']> = { goal: text, earlier: [] };
  session.goal = goal;
  session.steps = { [PLAN_STEP]: { status: 'running', output: null, attempts: 0 } };
  session.install();
  const planner = wf.proxyActivities<Activities>({ startToCloseTimeout: '10m', retry: { maximumAttempts: 3 } });
  let maxPlans = DEFAULT_MAX_PLANS;
  let replan: { step: string; comment: string } | undefined;
  session.onAnswer = (gate: Gate) => {
    const d = gate.decision!;
    if (gate.source !== 'plan' && !d.approved && d.comment) replan ??= { step: gate.step, comment: d.comment };
  };

  let spec: Spec | undefined;
  let plans = 0;
  return settle(
    session,
    async () => {
      const checked = await check.checkGoal(raw);
      session.configure(checked.problems.length === 0 ? args.options : undefined, checked.worker);
      session.announce();
      if (checked.problems.length > 0) refuse(session, checked.problems);
      maxPlans = args.maxPlans ?? DEFAULT_MAX_PLANS;
      session.useBudget(undefined);
      let feedback: Feedback | undefined;
      for (;;) {
        plans++;
        replan = undefined;
        session.stopping = () => false;
        const planState = session.steps[PLAN_STEP]!;
        Object.assign(planState, { status: 'running', output: null });
        session.event('step.started', PLAN_STEP, { kind: 'plan', plan: plans });
        wf.setCurrentDetails(`Planning: ${args.goal}`);
        spec = await makePlan(session, planner, args, plans, feedback);
        goal.spec = spec;
        session.name = spec.name;
        const estimate = estimatePlan(session, spec);

        if (args.review) {
          const again = await reviewPlan(session, args, spec, plans, maxPlans, estimate);
          if (again) {
            feedback = { ...again, previous: spec, done: feedback?.done ?? {} };
            continue;
          }
        }
        planState.status = 'completed';
        if (!args.review) planState.output = { steps: spec.steps.length };
        session.stepEnded('step.completed', PLAN_STEP, { status: 'completed', plan: plans, steps: spec.steps.length });

        const carried = carriedOver(spec, feedback?.done ?? {});
        const end = await runSpec({ session, spec, input: args.input, carried, stop: () => replan !== undefined && plans < maxPlans });
        if (!end.stopped) return end.output;
        feedback = replaced(session, spec, plans, replan!, feedback);
      }
    },
    () => ({ goal: args.goal, spec: spec!, plans }),
  );
}

/**
 * Waits for a person to review plan number `plan`. Approved: undefined. Denied with a comment while plans are
 * left: the comment, to plan again with. Denied otherwise: the run fails.
 */
async function reviewPlan(session: RunSession, args: GoalArgs, spec: Spec, plan: number, maxPlans: number, estimate: SpecEstimate) {
  const planState = session.steps[PLAN_STEP]!;
  const details = `${planSummary(spec)}\n\n${estimateSummary(estimate)}`;
  const decision = (await session.waitForPerson(
    { step: PLAN_STEP, title: `Run this plan for: ${args.goal}`.slice(0, 300), details, source: 'plan' },
    undefined,
    'deny',
  ))!;
  planState.output = decision;
  if (decision.approved) return undefined;
  if (decision.comment && plan < maxPlans) {
    session.goal!.earlier.push({ plan, spec, replacedBecause: { step: PLAN_STEP, comment: decision.comment }, steps: {} });
    session.gates.delete(PLAN_STEP);
    return { comment: decision.comment, step: PLAN_STEP };
  }
  planState.status = 'completed';
  const why = decision.comment ? `: ${decision.comment}` : '';
  const left = decision.comment ? ` (no plans left: maxPlans ${maxPlans})` : '';
  session.error = `the plan was denied${decision.by ? ` by ${decision.by}` : ''}${why}${left}`;
  throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisPlanDenied');
}

/** A person asked for another plan while this one ran: what completed is kept for it, but the step they denied. */
function replaced(session: RunSession, spec: Spec, plan: number, asked: { step: string; comment: string }, before: Feedback | undefined): Feedback {
  const { [PLAN_STEP]: _plan, ...ran } = session.steps;
  session.goal!.earlier.push({ plan, spec, replacedBecause: asked, steps: ran });
  const done: Record<string, DoneStep> = { ...(before?.done ?? {}) };
  for (const step of spec.steps) {
    const state = ran[step.id]!;
    if (state.status === 'completed' && step.id !== asked.step) done[step.id] = { step, output: state.output };
  }
  return { ...asked, previous: spec, done };
}

/** One call of the planner activity, within the run's token budget; the plan step fails with a reason otherwise. */
async function makePlan(
  session: RunSession,
  planner: wf.ActivityInterfaceFor<Activities>,
  args: GoalArgs,
  plans: number,
  feedback: Feedback | undefined,
): Promise<Spec> {
  const planState = session.steps[PLAN_STEP]!;
  session.budget.checkTokens('planning');
  const maxTokens = session.budget.tokensLeft();
  const call: PlanCall = {
    goal: args.goal,
    input: args.input ?? null,
    ...(maxTokens !== undefined && { maxTokens }),
    ...(feedback && {
      feedback: {
        comment: feedback.comment,
        previous: feedback.previous,
        done: Object.fromEntries(Object.entries(feedback.done).map(([id, d]) => [id, d.output])),
      },
    }),
  };
  let planned;
  try {
    checkPayload(session, `what the planner is sent for plan ${plans}`, call);
    planned = await planner.planGoal.executeWithOptions({ startToCloseTimeout: '10m', summary: `plan ${plans}: ${args.goal}`.slice(0, 200) }, [call]);
  } catch (e) {
    if (wf.isCancellation(e)) throw e;
    return failPlan(session, `planning failed: ${describeError(e)}`, 'TrellisPlanFailed');
  }
  planState.attempts += planned.attempts;
  const cost = session.budget.price(planned.model, planned.tokens);
  Object.assign(planState, { tokens: addTokens(planState.tokens, planned.tokens), cost: addCost(planState.cost, cost) });
  session.budget.addTokens(planned.tokens, `plan ${plans}`, cost);
  if (planned.ok) return planned.spec;
  if (planned.outOfTokens)
    throw new BudgetExceeded(`maxTokens ${session.budget.caps.maxTokens}: ${session.budget.tokens.total} LLM tokens used while planning`);
  return failPlan(session, `no valid plan within ${planned.attempts} attempts:\n${planned.problems.join('\n')}`, 'TrellisPlanInvalid', {
    problems: planned.problems,
  });
}

/**
 * The plan's estimate by the worker's prices, for its review; a plan whose estimate is over what is left of the run's
 * budget (maxTokens, maxCost) fails the run before any of its steps, or a person, is asked anything (runs started
 * before this check keep their history as it was).
 */
function estimatePlan(session: RunSession, spec: Spec): SpecEstimate {
  const { prices, model } = session.worker;
  const estimate = estimateSpec(spec, { ...(prices && { prices }), ...(model !== undefined && { model }) });
  session.useBudget(spec.budget);
  const left = { tokens: session.budget.tokensLeft(), usd: session.budget.costLeft() };
  if (left.tokens === undefined && left.usd === undefined) return estimate;
  const over = overBudget(estimate, left);
  if (over === undefined || !wf.patched(PLAN_ESTIMATE_PATCH)) return estimate;
  Object.assign(session.steps[PLAN_STEP]!, { status: 'failed', reason: over });
  session.stepEnded('step.failed', PLAN_STEP, { reason: over });
  throw new BudgetExceeded(`${over}: nothing of it ran`);
}

const PLAN_ESTIMATE_PATCH = 'trellis-plan-estimate';

function failPlan(session: RunSession, error: string, type: string, details?: unknown): never {
  Object.assign(session.steps[PLAN_STEP]!, { status: 'failed', reason: error });
  session.stepEnded('step.failed', PLAN_STEP, { reason: error });
  session.error = error;
  throw wf.ApplicationFailure.nonRetryable(error, type, ...(details === undefined ? [] : [details]));
}
