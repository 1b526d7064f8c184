/**
 * What a spec needs from outside itself: the tools it may call and the saved specs it runs. The interpreter
 * checks them before starting (a worker without a tool fails the run at once, not halfway through), and the
 * graph marks steps whose tools a person must approve.
 */
import type { Spec, Step } from './schema.js';

/** Saved specs by name, as call steps name them (the worker's spec library). */
export type SpecLibrary = ReadonlyMap<string, Spec>;

/** Tools one step may call: a tool step's tool, an agent's tools, a map's tool sub-step. */
export function stepTools(step: Step): string[] {
  switch (step.kind) {
    case 'tool':
      return [step.tool];
    case 'agent':
      return step.tools;
    case 'map':
      return step.step.kind === 'tool' ? [step.step.tool] : [];
    case 'llm':
    case 'approval':
    case 'wait':
    case 'call':
      return [];
  }
}

/** Distinct tool names the spec may call, in spec order. A called spec's own tools are not included. */
export function toolsUsed(spec: Spec): string[] {
  return distinct(spec.steps.flatMap(stepTools));
}

/** Distinct names of the saved specs that `call` steps run, in spec order. */
export function specsCalled(spec: Spec): string[] {
  return distinct(spec.steps.flatMap((s) => (s.kind === 'call' ? [s.spec] : [])));
}

function distinct(names: string[]): string[] {
  return [...new Set(names)];
}
