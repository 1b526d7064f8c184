/**
 * Goal runs, the pure parts: how a plan reads to the person reviewing it, and which steps of a new plan were
 * already done before a replan (same id, same definition), so they are not run again.
 */
import { dependencyMap, topologicalOrder } from '../spec/graph.js';
import type { Spec, Step } from '../spec/schema.js';
import { oneLine } from '../spec/text.js';
import { canonicalJson } from './canonical.js';

/** A goal run's review is the step "plan": a plan may not use that id. */
export const PLAN_STEP = 'plan';

/** One line per step, for the `plan` approval's details and the Temporal UI. */
export function planSummary(spec: Spec): string {
  const lines = spec.steps.map((s) => `- ${s.id} (${s.kind}): ${stepGist(s)}${s.when !== undefined ? ` when ${s.when}` : ''}`);
  return [`${spec.name}${spec.description ? `: ${spec.description}` : ''}`, ...lines].join('\n');
}

function stepGist(step: Step): string {
  switch (step.kind) {
    case 'tool':
      return `${step.tool} ${JSON.stringify(step.args ?? {})}`;
    case 'llm':
    case 'agent':
      return `${step.kind === 'agent' ? `tools ${step.tools.join(', ')}; ` : ''}${clip(step.prompt)}`;
    case 'approval':
      return clip(step.title);
    case 'wait':
      return step.duration;
    case 'map':
      return `over ${step.items}: ${step.step.kind === 'tool' ? step.step.tool : clip(step.step.prompt)}`;
    case 'call':
      return `spec ${step.spec}`;
  }
}

const clip = (text: string) => oneLine(text, 120);

/** A step that completed before a replan: its definition and its output. */
export interface DoneStep {
  step: Step;
  output: unknown;
}

/**
 * Outputs of the new plan's steps that were done already: same id, the same definition, and every step it
 * depends on carried too (a kept step whose input changed would otherwise keep an output of the old input).
 */
export function carriedOver(spec: Spec, done: Readonly<Record<string, DoneStep>>): Record<string, unknown> {
  const deps = dependencyMap(spec);
  const byId = new Map(spec.steps.map((s) => [s.id, s]));
  const out: Record<string, unknown> = {};
  for (const id of topologicalOrder([...byId.keys()], deps)) {
    const prior = Object.hasOwn(done, id) ? done[id] : undefined;
    const same = prior !== undefined && canonicalJson(prior.step) === canonicalJson(byId.get(id));
    if (same && (deps.get(id) ?? []).every((d) => Object.hasOwn(out, d))) out[id] = prior.output;
  }
  return out;
}
