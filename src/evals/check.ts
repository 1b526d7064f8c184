/**
 * The checks of an eval case against the planner's result and the run's output, and the record each case
 * leaves. Pure: the runner (run.ts) does the model calls and the runs, and hands their results here.
 */
import type { Cost } from '../pricing/cost.js';
import type { TokenUsage } from '../engine/state.js';
import type { Spec } from '../spec/schema.js';
import { toolsUsed } from '../spec/uses.js';
import { partialMatch } from './match.js';
import type { EvalCase } from './suite.js';

/** pass; fail; skip: expected, but not checked because an earlier check failed (no plan to run, say). */
export type CheckStatus = 'pass' | 'fail' | 'skip';

/** Each expectation of the case, present only when the case has it (`plan` always: valid defaults to true). */
export interface CaseChecks {
  plan: CheckStatus;
  tools?: CheckStatus;
  notTools?: CheckStatus;
  maxSteps?: CheckStatus;
  output?: CheckStatus;
}

/** What one case gave: whether it passed, each check, the planner's cost, and why it failed. renderTable shows a list of them. */
export interface CaseRecord {
  /** The case's name. */
  name: string;
  /** Whether every check of the case passed (casePassed). */
  passed: boolean;
  checks: CaseChecks;
  /** Planner model calls, repairs included. */
  attempts: number;
  /** The planner's tokens (the run's own model calls are not counted here). */
  tokens: TokenUsage;
  /** What the case cost: the planner's tokens and the run's model calls, by the price table (absent without one). */
  cost?: Cost;
  /** Top-level steps of the plan; null without a valid plan. */
  steps: number | null;
  /** The tools the plan uses, sorted; empty without a valid plan. */
  toolsUsed: string[];
  /** Wall time of the case: planning, and the run when there is one. */
  ms: number;
  /** The first failure's message, null when the case passed; `failures` has all of them. */
  failure: string | null;
  /** Every failure, one line each: `tools: the plan does not use refund_order (it uses lookup_order)`. */
  failures: string[];
  /** The run, when the case ran its plan. */
  runId?: string;
  /** The run's output, when it completed. */
  output?: unknown;
}

/**
 * What the planner gave: a valid spec, or why there is none. `endpointFailed`: the model endpoint failed (a 500,
 * say), so the planner never gave up, and a case that expects no valid spec must not pass on it.
 */
export type PlanOutcome = { ok: true; spec: Spec } | { ok: false; message: string; endpointFailed?: boolean };

/** What running the plan gave: its output, or why there is none (it failed, timed out, was refused). */
/** `cost`: what the run's model calls cost, by the worker's price table. */
export type RunOutcome = { ok: true; runId: string; output: unknown; cost?: Cost } | { ok: false; runId?: string; message: string; cost?: Cost };

/** What checkPlan found: the checks so far, their failures, and what the record shows of the plan. */
export interface PlanChecks {
  checks: CaseChecks;
  failures: string[];
  /** Top-level steps of the plan; null without a valid plan. */
  steps: number | null;
  /** The tools the plan uses, sorted. */
  toolsUsed: string[];
  /** Whether the case should go on to run the plan: it expects an output and every plan check passed. */
  run: boolean;
}

/** The checks that read the plan alone: validity, tools, steps. */
export function checkPlan(c: EvalCase, plan: PlanOutcome): PlanChecks {
  const expect = c.expect ?? {};
  const wantValid = expect.valid ?? true;
  const failures: string[] = [];
  const checks: CaseChecks = { plan: 'pass' };
  const has = {
    tools: expect.tools !== undefined,
    notTools: expect.notTools !== undefined,
    maxSteps: expect.maxSteps !== undefined,
    output: expect.output !== undefined,
  };
  if (!plan.ok) {
    if (wantValid || plan.endpointFailed) {
      checks.plan = 'fail';
      failures.push(`plan: ${plan.message}`);
    }
    for (const key of ['tools', 'notTools', 'maxSteps', 'output'] as const) if (has[key]) checks[key] = 'skip';
    return { checks, failures, steps: null, toolsUsed: [], run: false };
  }
  // Tool steps, agent steps' tools, map steps' tool sub-steps (the spec layer's own reading), sorted.
  const used = [...toolsUsed(plan.spec)].sort();
  const steps = plan.spec.steps.length;
  if (!wantValid) {
    checks.plan = 'fail';
    failures.push('plan: expected no valid spec, got one');
  }
  if (expect.tools) {
    const missing = expect.tools.filter((t) => !used.includes(t));
    checks.tools = missing.length === 0 ? 'pass' : 'fail';
    if (missing.length > 0) failures.push(`tools: the plan does not use ${list(missing)} (it uses ${used.length ? list(used) : 'no tools'})`);
  }
  if (expect.notTools) {
    const used_ = expect.notTools.filter((t) => used.includes(t));
    checks.notTools = used_.length === 0 ? 'pass' : 'fail';
    if (used_.length > 0) failures.push(`notTools: the plan uses ${list(used_)}`);
  }
  if (expect.maxSteps !== undefined) {
    checks.maxSteps = steps <= expect.maxSteps ? 'pass' : 'fail';
    if (steps > expect.maxSteps) failures.push(`maxSteps: the plan has ${steps} steps, expected at most ${expect.maxSteps}`);
  }
  const planPassed = failures.length === 0;
  if (has.output && !planPassed) checks.output = 'skip';
  return { checks, failures, steps, toolsUsed: used, run: has.output && planPassed };
}

/** The output check: the run's output must contain the expected one. */
export function checkOutput(expected: unknown, run: RunOutcome): { status: CheckStatus; failures: string[] } {
  if (!run.ok) return { status: 'fail', failures: [`output: ${run.message}`] };
  const diff = partialMatch(expected, run.output);
  return { status: diff.length === 0 ? 'pass' : 'fail', failures: diff };
}

/** Whether every check that ran passed (a skipped check does not pass a case: something before it failed). */
export function casePassed(checks: CaseChecks): boolean {
  return Object.values(checks).every((s) => s === 'pass');
}

function list(names: readonly string[]): string {
  return names.join(', ');
}
