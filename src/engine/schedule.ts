/**
 * The interpreter's decisions, as pure functions: which steps start now (with their inputs evaluated), which
 * are skipped and why, which fail before they start, and the run's output. The workflow only applies them,
 * so all of this is tested without Temporal.
 */
import { dependencyMap, topologicalOrder } from '../spec/graph.js';
import { compileExpression, type EvaluateOptions, type Scope } from '../spec/expression.js';
import { parseDuration } from '../spec/duration.js';
import { getOwn, setOwn } from '../spec/own.js';
import type { MapSubStep, Spec, Step } from '../spec/schema.js';
import { evaluateCondition, renderTemplate, renderValue } from '../spec/template.js';
import { TERMINAL, type RunInfo, type StepState } from './state.js';

export interface RunPlan {
  spec: Spec;
  /** Step ids, dependencies first (spec order among independent steps). */
  order: string[];
  deps: ReadonlyMap<string, readonly string[]>;
  steps: ReadonlyMap<string, Step>;
}

export function planRun(spec: Spec): RunPlan {
  const deps = dependencyMap(spec);
  return {
    spec,
    deps,
    order: topologicalOrder(
      spec.steps.map((s) => s.id),
      deps,
    ),
    steps: new Map(spec.steps.map((s) => [s.id, s])),
  };
}

/** A step with its expressions evaluated: what the workflow hands to an activity, a timer or a person. */
export type ResolvedTool = { kind: 'tool'; tool: string; args: Record<string, unknown> };
export type ResolvedLlm = { kind: 'llm'; prompt: string; system?: string; output?: Record<string, unknown>; model?: string; temperature?: number };
export type ResolvedStep =
  | ResolvedTool
  | ResolvedLlm
  | {
      kind: 'approval';
      title: string;
      details?: string;
      timeoutMs?: number;
      remindMs?: number;
      onTimeout: 'deny' | 'approve' | 'fail';
      approvers?: string[];
    }
  | { kind: 'wait'; durationMs: number }
  | (Omit<ResolvedLlm, 'kind'> & { kind: 'agent'; tools: string[]; maxTurns: number })
  | { kind: 'map'; items: Array<ResolvedTool | ResolvedLlm>; maxParallel: number; onItemError: 'fail' | 'continue' }
  | { kind: 'call'; spec: string; input: unknown };

export const DEFAULT_MAP_PARALLEL = 4;

/**
 * Kinds that hold one of the run's maxParallel slots while they run: those that call activities or start a child
 * run. Approvals and waits cost nothing while they wait, so they always start.
 */
export function holdsSlot(kind: ResolvedStep['kind']): boolean {
  return kind !== 'approval' && kind !== 'wait';
}

export type Decision =
  | { type: 'start'; step: string; resolved: ResolvedStep }
  | { type: 'skip'; step: string; reason: string }
  | { type: 'fail'; step: string; reason: string };

export function scopeOf(plan: RunPlan, steps: Readonly<Record<string, StepState>>, input: unknown, run: RunInfo): Scope {
  // Own keys only: a step id such as `constructor` is an ordinary key.
  const outputs: Record<string, unknown> = {};
  for (const id of plan.order) {
    const state = getOwn(steps, id);
    setOwn(outputs, id, state?.status === 'completed' ? state.output : null);
  }
  return { input: input ?? null, steps: outputs, run: { ...run } };
}

/**
 * Decisions for every pending step whose dependencies have all ended. Skips cascade within one call (the
 * order is topological), so one call reaches a fixed point. `capacity` bounds how many steps that hold a slot
 * start (holdsSlot); `options.meter`, a cost budget all its expressions share (a run's).
 */
export function decide(
  plan: RunPlan,
  steps: Readonly<Record<string, StepState>>,
  input: unknown,
  run: RunInfo,
  capacity = Infinity,
  options?: EvaluateOptions,
): Decision[] {
  const status = new Map(plan.order.map((id) => [id, steps[id]!.status]));
  const scope = scopeOf(plan, steps, input, run);
  const decisions: Decision[] = [];
  let starts = 0;
  for (const id of plan.order) {
    if (status.get(id) !== 'pending') continue;
    const deps = plan.deps.get(id) ?? [];
    if (!deps.every((d) => TERMINAL.has(status.get(d)!))) continue;
    const notDone = deps.find((d) => status.get(d) !== 'completed');
    if (notDone !== undefined) {
      const why = status.get(notDone) === 'skipped' ? 'was skipped' : 'failed';
      decisions.push({ type: 'skip', step: id, reason: `step "${notDone}" ${why}` });
      status.set(id, 'skipped');
      continue;
    }
    const step = plan.steps.get(id)!;
    try {
      if (step.when !== undefined && !evaluateCondition(step.when, scope, options)) {
        decisions.push({ type: 'skip', step: id, reason: `when is false: ${step.when}` });
        status.set(id, 'skipped');
        continue;
      }
      const slot = holdsSlot(step.kind);
      if (slot && starts >= capacity) continue;
      decisions.push({ type: 'start', step: id, resolved: resolveStep(step, scope, options) });
      status.set(id, 'running');
      if (slot) starts++;
    } catch (e) {
      decisions.push({ type: 'fail', step: id, reason: (e as Error).message });
      status.set(id, 'failed');
    }
  }
  return decisions;
}

export function resolveStep(step: Step, scope: Scope, options?: EvaluateOptions): ResolvedStep {
  const text = (value: string) => {
    const v = renderTemplate(value, scope, options);
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  const modelCall = (s: Extract<Step | MapSubStep, { kind: 'llm' | 'agent' }>) => ({
    prompt: text(s.prompt),
    ...(s.system !== undefined && { system: text(s.system) }),
    ...(s.output !== undefined && { output: s.output }),
    ...(s.model !== undefined && { model: s.model }),
    ...(s.temperature !== undefined && { temperature: s.temperature }),
  });
  switch (step.kind) {
    case 'tool':
      return { kind: 'tool', tool: step.tool, args: renderValue(step.args ?? {}, scope, options) as Record<string, unknown> };
    case 'llm':
      return { kind: 'llm', ...modelCall(step) };
    case 'agent':
      return { kind: 'agent', ...modelCall(step), tools: step.tools, maxTurns: step.maxTurns };
    case 'map': {
      const items = compileExpression(step.items).evaluate(scope, options);
      if (!Array.isArray(items)) throw new Error(`items ${JSON.stringify(step.items)} is not a list: got ${JSON.stringify(items)?.slice(0, 100)}`);
      return {
        kind: 'map',
        // Each item's sub-step is resolved now, with item and index in scope: a bad item fails before any runs.
        items: items.map((item, index) => {
          const sub = { ...scope, item, index };
          try {
            return step.step.kind === 'tool'
              ? { kind: 'tool' as const, tool: step.step.tool, args: renderValue(step.step.args ?? {}, sub, options) as Record<string, unknown> }
              : (resolveStep({ ...step.step, id: step.id } as Step, sub, options) as ResolvedLlm);
          } catch (e) {
            throw new Error(`item ${index}: ${(e as Error).message}`, { cause: e });
          }
        }),
        maxParallel: step.maxParallel ?? DEFAULT_MAP_PARALLEL,
        onItemError: step.onItemError ?? 'fail',
      };
    }
    case 'call':
      return { kind: 'call', spec: step.spec, input: step.input === undefined ? null : renderValue(step.input, scope, options) };
    case 'approval':
      return {
        kind: 'approval',
        title: text(step.title),
        ...(step.details !== undefined && { details: text(step.details) }),
        ...(step.timeout !== undefined && { timeoutMs: parseDuration(step.timeout)! }),
        ...(step.remind !== undefined && { remindMs: parseDuration(step.remind)! }),
        onTimeout: step.onTimeout ?? 'deny',
        ...(step.approvers !== undefined && { approvers: step.approvers }),
      };
    case 'wait':
      return { kind: 'wait', durationMs: parseDuration(step.duration)! };
  }
}

/** Whether the run has nothing left to do. */
export function allEnded(plan: RunPlan, steps: Readonly<Record<string, StepState>>): boolean {
  return plan.order.every((id) => TERMINAL.has(steps[id]!.status));
}

/** The run's output: the spec's `output` evaluated, or, without one, every step's output by id. */
export function runOutput(
  plan: RunPlan,
  steps: Readonly<Record<string, StepState>>,
  input: unknown,
  run: RunInfo,
  options?: EvaluateOptions,
): unknown {
  const scope = scopeOf(plan, steps, input, run);
  return plan.spec.output === undefined ? scope.steps : renderValue(plan.spec.output, scope, options);
}
