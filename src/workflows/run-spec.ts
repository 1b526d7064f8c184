/**
 * Runs one validated spec in a session. The decisions (what is ready, what is skipped, what a step's inputs
 * evaluate to, the output) come from src/engine; this file applies them with Temporal's primitives, starting each
 * step (execute-step.ts) as the engine says, within the run's parallel limit and budget, until every step has ended,
 * one has failed the run, or a person has asked for a new plan.
 */
import * as wf from '@temporalio/workflow';
import type { ToolInfo } from '../engine/messages.js';
import { allEnded, decide, holdsSlot, planRun, runOutput, type Decision, type RunPlan } from '../engine/schedule.js';
import { initialSteps, type RunInfo, type StepState } from '../engine/state.js';
import type { Spec } from '../spec/schema.js';
import { specsCalled, toolsUsed } from '../spec/uses.js';
import { executeStep } from './execute-step.js';
import { BudgetExceeded } from './budget.js';
import { Withdrawn, type RunSession } from './session.js';
import { describeError, GateDenied, type Activities, type StepContext } from './step-context.js';
import { inStepSpan } from '../telemetry/workflow-spans.js';

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
  const runner = new SpecRunner(r, planRun(r.spec));
  await runner.prepare();
  await runner.loop();
  return runner.end();
}

class SpecRunner {
  private readonly session: RunSession;
  private readonly input: unknown;
  private readonly run: RunInfo;
  private readonly steps: Record<string, StepState>;
  private readonly maxParallel: number;
  private readonly acts = wf.proxyActivities<Activities>({ startToCloseTimeout: '5m' });
  private readonly local = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });
  private toolInfo: ToolInfo = {};
  private library: Record<string, Spec> = {};
  private slotsInUse = 0;
  private inFlight = 0;
  private failure: { step: string; reason: string; budget: boolean } | undefined;

  constructor(
    private readonly r: SpecRun,
    private readonly plan: RunPlan,
  ) {
    const { session, spec } = r;
    this.session = session;
    this.input = r.input ?? null;
    const info = wf.workflowInfo();
    this.run = { id: info.workflowId, workflowId: info.workflowId, temporalRunId: info.runId, startedAt: info.startTime.toISOString() };
    this.steps = initialSteps(plan.order);
    for (const [id, output] of Object.entries(r.carried ?? {})) {
      Object.assign(this.steps[id]!, { status: 'completed', output, reason: 'done before the replan: not run again' });
    }
    session.steps = session.goal ? { plan: session.steps.plan!, ...this.steps } : this.steps;
    session.name = spec.name;
    session.useBudget(spec.budget);
    session.stopping = () => r.stop?.() === true;
    this.maxParallel = session.options.maxParallel ?? DEFAULT_MAX_PARALLEL;
  }

  /**
   * The worker's tools and saved specs, asked once: their defaults and policy, and whether they exist at all (a run
   * that names a tool or spec this worker lacks fails before any step has a side effect).
   */
  async prepare(): Promise<void> {
    const { prepared, spec } = this.r;
    if (prepared) ({ toolInfo: this.toolInfo, library: this.library } = prepared);
    else {
      const toolNames = toolsUsed(spec);
      if (toolNames.length > 0) this.toolInfo = await this.local.describeTools(toolNames);
      const specNames = specsCalled(spec);
      if (specNames.length > 0) this.library = await this.local.loadSpecs(specNames);
    }
    this.session.refreshStatus();
    this.session.announce();
  }

  /** Starts what the engine says, then waits for anything to change, until the run has nothing left to start. */
  async loop(): Promise<void> {
    const { session } = this;
    while (!this.over()) {
      const decisions = decide(this.plan, this.steps, this.input, this.run, this.maxParallel - this.slotsInUse, { meter: session.expressions });
      for (const d of decisions) if (!this.apply(d)) break;
      if (this.over()) break;
      const seen = session.version;
      // Rejects with a CancelledFailure when the run is cancelled.
      await wf.condition(() => session.version !== seen);
      // Whatever woke the run (a step's end, an answer, a flood of refused signals), its history must still have room.
      if (!this.failure) session.budget.checkHistory('the next step');
    }
  }

  private over(): boolean {
    return this.failure !== undefined || this.session.stopping() || allEnded(this.plan, this.steps);
  }

  /** Applies one decision; false when a budget stopped the run (no further decision applies). */
  private apply(d: Decision): boolean {
    if (d.type === 'skip') this.skip(d.step, d.reason);
    else if (d.type === 'fail') this.fail(d.step, d.reason);
    else {
      try {
        this.session.budget.countExecution(`step "${d.step}"`);
      } catch (e) {
        this.fail(d.step, e);
        return false;
      }
      this.start(d.step, d.resolved);
    }
    return true;
  }

  private start(id: string, resolved: Extract<Decision, { type: 'start' }>['resolved']): void {
    const state = this.steps[id]!;
    state.status = 'running';
    this.session.event('step.started', id, { kind: resolved.kind });
    const slot = holdsSlot(resolved.kind);
    if (slot) this.slotsInUse++;
    this.inFlight++;
    // Not awaited, by design: steps run side by side; each records its own end and wakes the loop (session.version).
    void inStepSpan(id, resolved.kind, () => executeStep(this.context(id), resolved, this.library))
      .then(
        (value) => {
          Object.assign(state, { status: 'completed', output: value });
          this.session.stepEnded('step.completed', id, { status: 'completed' });
        },
        (e: unknown) => {
          // A denial is an answer, and a withdrawal is not the step's failure: either way it did not run to its end.
          if (e instanceof GateDenied || e instanceof Withdrawn) this.skip(id, e.message);
          else if (!wf.isCancellation(e)) this.fail(id, e);
        },
      )
      .finally(() => {
        if (slot) this.slotsInUse--;
        this.inFlight--;
        this.session.version++;
      });
  }

  private context(id: string): StepContext {
    return {
      id,
      step: this.plan.steps.get(id)!,
      session: this.session,
      acts: this.acts,
      local: this.local,
      // The run's id and the step: a run started again under the same id (by a client that allows it) has the same
      // keys, so a tool that honours them does not repeat its side effects.
      key: `${this.run.workflowId}/${id}`,
      toolInfo: this.toolInfo,
      maxParallel: this.maxParallel,
      callDepth: this.r.callDepth ?? 0,
    };
  }

  private skip(id: string, reason: string): void {
    Object.assign(this.steps[id]!, { status: 'skipped', output: null, reason });
    this.session.stepEnded('step.completed', id, { status: 'skipped', reason });
  }

  private fail(id: string, e: unknown): void {
    const reason = typeof e === 'string' ? e : describeError(e);
    Object.assign(this.steps[id]!, { status: 'failed', output: null, reason });
    this.session.stepEnded('step.failed', id, { reason });
    const budget = e instanceof BudgetExceeded;
    if ((budget || (this.plan.steps.get(id)!.onError ?? 'fail') === 'fail') && !this.failure) this.failure = { step: id, reason, budget };
  }

  /** How the spec's run ended: its output, a failure naming the step, or stopped for a new plan. */
  async end(): Promise<SpecRunEnd> {
    const { session, failure } = this;
    if (failure) {
      const type = failure.budget ? 'TrellisBudgetExceeded' : 'TrellisStepFailed';
      session.error = failure.budget ? `${failure.reason} (in step "${failure.step}")` : `step "${failure.step}" failed: ${failure.reason}`;
      throw wf.ApplicationFailure.nonRetryable(session.error, type, { step: failure.step, reason: failure.reason });
    }
    if (session.stopping()) {
      // Activities and child runs in flight finish (their outputs are offered to the next plan); waits for people and
      // timers are withdrawn, and nothing new starts (session.stopping), so this ends.
      await wf.condition(() => this.inFlight === 0);
      for (const id of this.plan.order) {
        if (this.steps[id]!.status === 'pending') Object.assign(this.steps[id]!, { status: 'skipped', reason: new Withdrawn().message });
      }
      return { stopped: true };
    }
    try {
      return { stopped: false, output: runOutput(this.plan, this.steps, this.input, this.run, { meter: session.expressions }) };
    } catch (e) {
      session.error = `output: ${(e as Error).message}`;
      throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisOutputFailed');
    }
  }
}
