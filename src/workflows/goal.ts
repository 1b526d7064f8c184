/**
 * A goal run: plan in an activity, optionally wait for a person to approve the plan (the step "plan"), then run
 * it in the same session, so status and approvals keep the interpreter's contract. A person who denies with a
 * comment (the plan itself, or any approval or gated tool while it runs) asks for a new plan: the planner gets
 * the comment, the plan they saw and the outputs of the steps that already ran; those steps, kept unchanged in
 * the new plan, are not run again.
 */
import * as wf from '@temporalio/workflow';
import type { GoalArgs, GoalResult } from '../engine/messages.js';
import { carriedOver, PLAN_STEP, planSummary, type DoneStep } from '../engine/plan-review.js';
import type { Spec } from '../spec/schema.js';
import { settle } from './interpreter.js';
import { runSpec } from './run-spec.js';
import { RunSession, type Gate } from './session.js';
import type { Activities } from './step-context.js';

const DEFAULT_MAX_PLANS = 3;

export async function trellisGoal(args: GoalArgs): Promise<GoalResult> {
  const session = new RunSession(`goal: ${args.goal}`.slice(0, 200), args.options);
  session.goal = { goal: args.goal };
  session.steps = { [PLAN_STEP]: { status: 'running', output: null, attempts: 0 } };
  session.install();
  session.announce();
  const planner = wf.proxyActivities<Activities>({ startToCloseTimeout: '10m', retry: { maximumAttempts: 3 } });
  const maxPlans = args.maxPlans ?? DEFAULT_MAX_PLANS;
  let replan: { step: string; comment: string } | undefined;
  session.onAnswer = (gate: Gate) => {
    const d = gate.decision!;
    if (gate.source !== 'plan' && !d.approved && d.comment) replan ??= { step: gate.step, comment: d.comment };
  };

  let spec: Spec | undefined;
  let plans = 0;
  const result = await settle(session, async () => {
    let feedback: { comment: string; previous: Spec; done: Record<string, DoneStep> } | undefined;
    for (;;) {
      plans++;
      const planState = session.steps[PLAN_STEP]!;
      Object.assign(planState, { status: 'running', output: null });
      wf.setCurrentDetails(`Planning: ${args.goal}`);
      session.checkTokens('planning');
      const planned = await planner.planGoal.executeWithOptions(
        { startToCloseTimeout: '10m', summary: `plan ${plans}: ${args.goal}`.slice(0, 200) },
        [
          {
            goal: args.goal,
            ...(args.input !== undefined && { input: args.input }),
            ...(feedback && {
              feedback: {
                comment: feedback.comment,
                previous: feedback.previous,
                done: Object.fromEntries(Object.entries(feedback.done).map(([id, d]) => [id, d.output])),
              },
            }),
          },
        ],
      );
      planState.attempts += planned.attempts;
      session.addTokens(planned.tokens, `plan ${plans}`);
      if (!planned.ok) {
        session.error = `no valid plan within ${planned.attempts} attempts:\n${planned.problems.join('\n')}`;
        planState.status = 'failed';
        session.setStatus('failed');
        throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisPlanInvalid', { problems: planned.problems });
      }
      spec = planned.spec;
      session.goal = { goal: args.goal, spec };
      session.name = spec.name;

      if (args.review) {
        const decision = (await session.waitForPerson(
          { step: PLAN_STEP, title: `Run this plan for: ${args.goal}`.slice(0, 300), details: planSummary(spec), source: 'plan' },
          undefined,
          'deny',
        ))!;
        planState.output = decision;
        if (!decision.approved) {
          if (decision.comment && plans < maxPlans) {
            feedback = { comment: decision.comment, previous: spec, done: feedback?.done ?? {} };
            session.gates.delete(PLAN_STEP);
            continue;
          }
          planState.status = 'completed';
          const why = decision.comment ? `: ${decision.comment}` : '';
          session.error = `the plan was denied${decision.by ? ` by ${decision.by}` : ''}${why}${decision.comment ? ` (no plans left: maxPlans ${maxPlans})` : ''}`;
          session.setStatus('failed');
          throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisPlanDenied');
        }
      }
      planState.status = 'completed';
      if (!args.review) planState.output = { steps: spec.steps.length };

      replan = undefined;
      const carried = carriedOver(spec, feedback?.done ?? {});
      const end = await runSpec({ session, spec, input: args.input, carried, stop: () => replan !== undefined && plans < maxPlans });
      if (!end.stopped) return end.output;
      // A person asked for another plan while this one ran: keep what completed, except the step they denied.
      const done: Record<string, DoneStep> = { ...(feedback?.done ?? {}) };
      for (const step of spec.steps) {
        const state = session.steps[step.id]!;
        if (state.status === 'completed' && step.id !== replan!.step) done[step.id] = { step, output: state.output };
      }
      feedback = { comment: replan!.comment, previous: spec, done };
    }
  });
  return { ...result, spec: spec!, plans };
}
