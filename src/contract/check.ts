/**
 * The worker's check of a run's argument, whoever started the run: its shape, the spec (validated with the worker's
 * own tools and saved specs, so a type check runs too), the input against the spec's input schema. Every problem
 * is reported at once, as a path into the argument (`spec.steps[0].tool`, `input.orderId`, `options.maxParallel`)
 * and a message.
 */
import { z } from 'zod';
import type { RunProblem } from '../engine/messages.js';
import { inputProblems } from '../spec/input.js';
import { describe } from '../spec/describe.js';
import { zodIssueProblems } from '../spec/zod-issues.js';
import { formatPath, type Problem } from '../spec/problems.js';
import type { Spec } from '../spec/schema.js';
import type { ToolCatalog } from '../spec/catalog.js';
import type { SpecLibrary } from '../spec/uses.js';
import { specsCalled } from '../spec/uses.js';
import { validateSpec } from '../spec/validate/index.js';
import { GoalArgsSchema, RunArgsSchema } from './schemas.js';

// The spec is checked by the validator, whose messages are the ones users know; the rest of the argument by zod.
const RunArgsShell = RunArgsSchema.extend({ spec: z.unknown() });

export interface RunArgsCheckDeps {
  catalog: ToolCatalog;
  /** The saved specs `names` and all they call in turn; throws with a message a person can act on. */
  readCalled(names: string[]): Promise<SpecLibrary>;
}

export type RunArgsVerdict = { ok: true; spec: Spec; library: SpecLibrary } | { ok: false; problems: RunProblem[] };

/** Checks a trellisRun argument as a Temporal client sent it. */
export async function checkRunArgs(raw: unknown, deps: RunArgsCheckDeps): Promise<RunArgsVerdict> {
  if (!isObject(raw)) return { ok: false, problems: [notAnObject(raw, '{ spec, input, options }')] };
  const problems = shellProblems(RunArgsShell, raw);
  if (!Object.hasOwn(raw, 'spec')) {
    problems.push({ path: 'spec', code: 'SHAPE', message: 'missing; the argument of trellisRun is { spec, input, options }' });
    return { ok: false, problems };
  }
  const first = validateSpec(raw.spec, { tools: deps.catalog });
  if (!first.ok) return { ok: false, problems: [...problems, ...under('spec', first.problems)] };
  let spec = first.spec;
  let library: SpecLibrary = new Map();
  const called = specsCalled(spec);
  if (called.length > 0) {
    try {
      library = await deps.readCalled(called);
    } catch (e) {
      return { ok: false, problems: [...problems, { path: 'spec', code: 'UNKNOWN_SPEC', message: (e as Error).message }] };
    }
    // With the library, call steps' literal inputs and cycles through the saved specs are checked too.
    const second = validateSpec(spec, { tools: deps.catalog, specs: library });
    if (!second.ok) return { ok: false, problems: [...problems, ...under('spec', second.problems)] };
    spec = second.spec;
  }
  problems.push(...under('', inputProblems(spec.input, Object.hasOwn(raw, 'input') ? (raw.input ?? null) : null)));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, spec, library };
}

/** Checks a trellisGoal argument. */
export function checkGoalArgs(raw: unknown): RunProblem[] {
  if (!isObject(raw)) return [notAnObject(raw, '{ goal, input, review, options }')];
  const problems = shellProblems(GoalArgsSchema, raw);
  if (typeof raw.goal === 'string' && raw.goal.trim() === '' && raw.goal !== '') {
    problems.push({ path: 'goal', code: 'SHAPE', message: 'is empty: say what the run should achieve' });
  }
  return problems;
}

function shellProblems(schema: z.ZodType, raw: Record<string, unknown>): RunProblem[] {
  const parsed = schema.safeParse(raw, { reportInput: true });
  return parsed.success ? [] : under('', zodIssueProblems(parsed.error.issues, { schema }));
}

function under(root: string, problems: readonly Problem[]): RunProblem[] {
  return problems.map((p) => ({ path: formatPath(root === '' ? p.path : [root, ...p.path]), code: p.code, message: p.message }));
}

function notAnObject(raw: unknown, shape: string): RunProblem {
  return { path: '(root)', code: 'SHAPE', message: `the argument is an object ${shape}, got ${describe(raw)}` };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
