/**
 * Runs one validated spec in a session. The decisions (what is ready, what is skipped, what a step's inputs
 * evaluate to, the output) come from src/engine; this file applies them with Temporal's primitives:
 * activities for tools and model calls, conditions and durable timers for people and waits, child runs for
 * `call` steps.
 */
import * as wf from '@temporalio/workflow';
import type { ToolInfo } from '../engine/messages.js';
import { allEnded, decide, holdsSlot, planRun, runOutput, type ResolvedStep } from '../engine/schedule.js';
import { initialSteps, type RunInfo } from '../engine/state.js';
import type { Spec } from '../spec/schema.js';
import { specsCalled, toolsUsed } from '../spec/uses.js';
import { runAgent } from './agent.js';
import { runCall } from './call.js';
import { runMap } from './map.js';
import { BudgetExceeded, formatMs, Withdrawn, workflowClockMs, workflowNow, type RunSession } from './session.js';
import { callModel, callTool, describeError, GateDenied, type Activities, type StepContext } from './step-context.js';

const DEFAULT_MAX_PARALLEL = 8;

export interface SpecRun {
  session: RunSession;
  spec: Spec;
  input: unknown;
  callDepth?: number;
  /** Outputs of steps done before a replan (same id and definition): they start completed. */
  carried?: Record<string, unknown>;
  /** Goal runs: true when a person asked for a new plan; no new step starts and the run returns stopped. */
  stop?: () => boolean;
  /** The worker's tool defaults and called specs, when the run's check gave them already; else asked here. */
  prepared?: { toolInfo: ToolInfo; library: Record<string, Spec> };
}

export type SpecRunEnd = { stopped: false; output: unknown } | { stopped: true };

/** Runs the spec to its end; a failed step (or budget) throws a non-retryable failure naming it. */
export async function runSpec(r: SpecRun): Promise<SpecRunEnd> {
  const { session, spec } = r;
  const input = r.input ?? null;
  const plan = planRun(spec);
  const info = wf.workflowInfo();
  const run: RunInfo = { id: info.workflowId, workflowId: info.workflowId, temporalRunId: info.runId, startedAt: info.startTime.toISOString() };
  const steps = initialSteps(plan.order);
  for (const [id, output] of Object.entries(r.carried ?? {})) {
    Object.assign(steps[id]!, { status: 'completed', output, reason: 'done before the replan: not run again' });
  }
  session.steps = session.goal ? { plan: session.steps.plan!, ...steps } : steps;
  session.name = spec.name;
  session.useBudget(spec.budget);
  session.stopping = () => r.stop?.() === true;
  const maxParallel = session.options.maxParallel ?? DEFAULT_MAX_PARALLEL;
  let slotsInUse = 0;
  let inFlight = 0;

  const acts = wf.proxyActivities<Activities>({ startToCloseTimeout: '5m' });
  const local = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });
  // The worker's tools and saved specs, asked once: their defaults and policy, and whether they exist at all
  // (a run that names a tool or spec this worker lacks fails before any step has a side effect).
  const toolNames = r.prepared ? [] : toolsUsed(spec);
  const toolInfo: ToolInfo = r.prepared?.toolInfo ?? (toolNames.length > 0 ? await local.describeTools(toolNames) : {});
  const specNames = r.prepared ? [] : specsCalled(spec);
  const library: Record<string, Spec> = r.prepared?.library ?? (specNames.length > 0 ? await local.loadSpecs(specNames) : {});

  const execute = async (id: string, resolved: ResolvedStep): Promise<unknown> => {
    const step = plan.steps.get(id)!;
    const ctx: StepContext = {
      id,
      step,
      session,
      acts,
      local,
      // The run's id and the step: a run started again under the same id (by a client that allows it) has the same
      // keys, so a tool that honours them does not repeat its side effects.
      key: `${run.workflowId}/${id}`,
      toolInfo,
      maxParallel,
      callDepth: r.callDepth ?? 0,
    };
    switch (resolved.kind) {
      case 'tool': {
        const result = await callTool(ctx, resolved.tool, resolved.args, ctx.key, `tool ${resolved.tool}`);
        steps[id]!.attempts = result.attempts;
        return result.output;
      }
      case 'llm': {
        const { kind: _kind, ...call } = resolved;
        const result = await callModel(ctx, call, `llm ${id}`, `llm step "${id}"`);
        Object.assign(steps[id]!, { attempts: result.attempt, tokens: result.tokens });
        return result.output;
      }
      case 'approval': {
        const decision = await session.waitForPerson(
          {
            step: id,
            title: resolved.title,
            ...(resolved.details !== undefined && { details: resolved.details }),
            ...(resolved.approvers !== undefined && { approvers: resolved.approvers }),
            ...(resolved.timeoutMs !== undefined && { deadline: new Date(workflowClockMs() + resolved.timeoutMs).toISOString() }),
            source: 'approval',
          },
          resolved.timeoutMs,
          resolved.onTimeout,
        );
        if (!decision) throw wf.ApplicationFailure.nonRetryable(`no answer within ${formatMs(resolved.timeoutMs!)} (onTimeout: fail)`);
        return decision;
      }
      case 'wait': {
        // A durable timer that a request for a new plan ends early.
        const summary = `wait ${id} ${formatMs(resolved.durationMs)}`;
        if (await wf.condition(session.stopping, resolved.durationMs, { summary })) throw new Withdrawn();
        return { at: workflowNow() };
      }
      case 'agent':
        return runAgent(ctx, resolved);
      case 'map':
        return runMap(ctx, resolved);
      case 'call':
        return runCall(ctx, library[resolved.spec]!, resolved.input);
    }
  };

  let failure: { step: string; reason: string; budget: boolean } | undefined;
  const fail = (id: string, e: unknown) => {
    const reason = typeof e === 'string' ? e : describeError(e);
    Object.assign(steps[id]!, { status: 'failed', output: null, reason });
    const budget = e instanceof BudgetExceeded;
    if ((budget || (plan.steps.get(id)!.onError ?? 'fail') === 'fail') && !failure) failure = { step: id, reason, budget };
  };
  const stopped = session.stopping;

  session.refreshStatus();
  session.announce();
  while (!failure && !stopped() && !allEnded(plan, steps)) {
    const decisions = decide(plan, steps, input, run, maxParallel - slotsInUse, { meter: session.expressions });
    for (const d of decisions) {
      const state = steps[d.step]!;
      if (d.type === 'skip') Object.assign(state, { status: 'skipped', reason: d.reason });
      else if (d.type === 'fail') fail(d.step, d.reason);
      else {
        try {
          session.countExecution(`step "${d.step}"`);
        } catch (e) {
          fail(d.step, e);
          break;
        }
        state.status = 'running';
        const slot = holdsSlot(d.resolved.kind);
        if (slot) slotsInUse++;
        inFlight++;
        void execute(d.step, d.resolved)
          .then(
            (value) => Object.assign(state, { status: 'completed', output: value }),
            (e: unknown) => {
              // A denial is an answer, and a withdrawal is not the step's failure: either way it did not run to its end.
              if (e instanceof GateDenied || e instanceof Withdrawn) Object.assign(state, { status: 'skipped', output: null, reason: e.message });
              else if (!wf.isCancellation(e)) fail(d.step, e);
            },
          )
          .finally(() => {
            if (slot) slotsInUse--;
            inFlight--;
            session.version++;
          });
      }
    }
    if (failure || stopped() || allEnded(plan, steps)) break;
    const seen = session.version;
    // Rejects with a CancelledFailure when the run is cancelled.
    await wf.condition(() => session.version !== seen);
    // Whatever woke the run (a step's end, an answer, a flood of refused signals), its history must still have room.
    if (!failure) session.checkHistory('the next step');
  }
  if (failure) {
    if (failure.budget) {
      session.error = `${failure.reason} (in step "${failure.step}")`;
      throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisBudgetExceeded', { step: failure.step, reason: failure.reason });
    }
    session.error = `step "${failure.step}" failed: ${failure.reason}`;
    throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisStepFailed', { step: failure.step, reason: failure.reason });
  }
  if (stopped()) {
    // Activities and child runs in flight finish (their outputs are offered to the next plan); waits for people and
    // timers are withdrawn, and nothing new starts (session.stopping), so this ends.
    await wf.condition(() => inFlight === 0);
    for (const id of plan.order) {
      if (steps[id]!.status === 'pending') Object.assign(steps[id]!, { status: 'skipped', reason: new Withdrawn().message });
    }
    return { stopped: true };
  }
  try {
    return { stopped: false, output: runOutput(plan, steps, input, run, { meter: session.expressions }) };
  } catch (e) {
    session.error = `output: ${(e as Error).message}`;
    throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisOutputFailed');
  }
}
