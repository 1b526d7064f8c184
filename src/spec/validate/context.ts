/** What the checks of one spec share: its ids and well-shaped steps, the catalog and library, the problems found. */
import type { JsonSchema, ToolCatalog } from '../catalog.js';
import { findCycles } from '../graph.js';
import { formatPath, problem, type Problem } from '../problems.js';
import type { Step } from '../schema.js';
import type { SpecLibrary } from '../uses.js';

export interface Context {
  ids: Map<string, number>;
  tools: ToolCatalog | undefined;
  specs: SpecLibrary | undefined;
  problems: Problem[];
  steps: Map<string, Step>;
  inputSchema?: JsonSchema | undefined;
  /** id -> ids of existing steps it depends on, gathered while checking, for the cycle check. */
  deps: Map<string, string[]>;
}

/** Cycles among the well-shaped steps, each named: `cycle: a -> b -> a`. */
export function checkCycles(ctx: Context): void {
  const order = [...ctx.steps.keys()];
  for (const cycle of findCycles(order, ctx.deps)) {
    ctx.problems.push(problem('CYCLE', ['steps', ctx.ids.get(cycle[0]!)!], `cycle: ${cycle.join(' -> ')}`));
  }
}

export function addDependency(ctx: Context, from: Step, to: string): void {
  if (to === from.id || !ctx.steps.has(to)) return;
  const list = ctx.deps.get(from.id);
  if (!list) ctx.deps.set(from.id, [to]);
  else if (!list.includes(to)) list.push(to);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${formatPath(p.path)}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
