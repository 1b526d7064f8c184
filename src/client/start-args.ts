/**
 * What a start sends to Temporal, worked out before anything is sent: the spec and the input checked, the run id
 * chosen, the workflow's argument, and what the Temporal UI shows for the run. Whatever fails here starts nothing.
 */
import { randomUUID } from 'node:crypto';
import type { GoalArgs, RunArgs, RunOptions } from '../engine/messages.js';
import type { ToolCatalog } from '../spec/catalog.js';
import { describe } from '../spec/describe.js';
import { nonFiniteNumbers } from '../spec/parse.js';
import { compareProblems, formatProblem, problem, type PathSegment } from '../spec/problems.js';
import { inputProblems } from '../spec/input.js';
import type { Budget, Spec } from '../spec/schema.js';
import { validateSpec } from '../spec/validate/index.js';
import { TrellisClientError } from './errors.js';
import { slug } from './run-id.js';

/** How start runs a spec: its input, its id, the catalog to validate with, and the run's options. */
export interface StartOptions {
  /** The run input, checked against the spec's input schema before anything starts. Default null. */
  input?: unknown;
  /** The run id (the Temporal workflow id). Default: the spec's name and a random suffix. An id that has a run is refused (RUN_EXISTS). */
  id?: string;
  /** With a catalog the validation also checks tools and types. */
  tools?: ToolCatalog;
  /** How many steps that call activities or start child runs run at once. Default 8. */
  maxParallel?: number;
  /** Caps for this run (with the spec's own budget, the smaller of each applies). */
  budget?: Budget;
}

/** How startGoal runs a goal: its input, its id, the plan's review, and the run's options. */
export interface StartGoalOptions {
  /** The run input: shown to the planner, and checked (by the worker) against the plan's input schema. */
  input?: unknown;
  /** The run id. Default: "goal-" and a random suffix. */
  id?: string;
  /** Wait for a person to approve the plan (the step "plan") before any step runs. */
  review?: boolean;
  /** Plans in all when people deny with a comment. Default 3. */
  maxPlans?: number;
  /** How many steps of the plan that call activities or start child runs run at once. Default 8. */
  maxParallel?: number;
  /** Caps for the whole run, planning included. */
  budget?: Budget;
}

/** A workflow start, ready to send: the id, the argument, and the name, summary and details the Temporal UI shows. */
export interface WorkflowStart {
  runId: string;
  args: RunArgs | GoalArgs;
  shown: { name: string; summary: string; details: string };
}

/**
 * A spec run's start: the spec validated (against the catalog with `tools`) and the input against its schema.
 *
 * @throws {TrellisClientError} SPEC_INVALID or INPUT_INVALID, with the problems.
 */
export function specStart(spec: unknown, options: StartOptions): WorkflowStart {
  const valid = validateSpec(spec, options.tools ? { tools: options.tools } : {});
  if (!valid.ok) {
    throw new TrellisClientError('SPEC_INVALID', `invalid spec:\n${valid.problems.map(formatProblem).join('\n')}`, valid.problems);
  }
  const input = options.input ?? null;
  checkInput(valid.spec, input);
  return {
    runId: options.id ?? `${slug(valid.spec.name)}-${randomUUID().slice(0, 8)}`,
    args: { spec: valid.spec, input, ...optionsArg(options) },
    shown: {
      name: valid.spec.name,
      summary: `${valid.spec.name}${valid.spec.description ? `: ${valid.spec.description}` : ''}`,
      details: `**Input**\n\n\`\`\`json\n${JSON.stringify(input, null, 2).slice(0, 4000)}\n\`\`\`\n\n**Steps**: ${valid.spec.steps.map((s) => `${s.id} (${s.kind})`).join(', ')}`,
    },
  };
}

/**
 * A goal run's start. The plan's input schema is checked by the worker's planner; what no JSON can carry is refused
 * now.
 *
 * @throws {TrellisClientError} SPEC_INVALID for an empty goal, INPUT_INVALID for an input JSON cannot hold.
 */
export function goalStart(goal: string, options: StartGoalOptions): WorkflowStart {
  if (goal.trim() === '') throw new TrellisClientError('SPEC_INVALID', 'the goal is empty: say what the run should achieve');
  if (options.input !== undefined) checkInput(undefined, options.input);
  const args: GoalArgs = {
    goal,
    ...(options.input !== undefined && { input: options.input }),
    ...(options.review && { review: true }),
    ...(options.maxPlans !== undefined && { maxPlans: options.maxPlans }),
    ...optionsArg(options),
  };
  return {
    runId: options.id ?? `goal-${randomUUID().slice(0, 8)}`,
    args,
    shown: {
      name: `goal: ${goal}`.slice(0, 200),
      summary: `goal: ${goal}`,
      details: `**Goal**\n\n${goal}\n\n**Input**\n\n\`\`\`json\n${JSON.stringify(options.input ?? null, null, 2).slice(0, 4000)}\n\`\`\`${options.review ? '\n\nThe plan waits for a review (step `plan`).' : ''}`,
    },
  };
}

function optionsArg(options: { maxParallel?: number; budget?: Budget }): { options?: RunOptions } {
  const o: RunOptions = {
    ...(options.maxParallel !== undefined && { maxParallel: options.maxParallel }),
    ...(options.budget !== undefined && { budget: options.budget }),
  };
  return Object.keys(o).length > 0 ? { options: o } : {};
}

function checkInput(spec: Spec | undefined, input: unknown): void {
  // Infinity and NaN would travel as null: they are not JSON.
  const problems = [
    ...nonFiniteNumbers(input).map((p) => problem('TYPE', ['input', ...p], `${describe(pathValue(input, p))}: not a number JSON can hold`)),
    ...(spec ? inputProblems(spec.input, input) : []),
  ].sort(compareProblems);
  if (problems.length > 0) throw new TrellisClientError('INPUT_INVALID', `invalid input:\n${problems.map(formatProblem).join('\n')}`, problems);
}

function pathValue(value: unknown, path: PathSegment[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<PathSegment, unknown>)[key], value);
}
