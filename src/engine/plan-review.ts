/**
 * Goal runs, the pure parts: how a plan reads to the person reviewing it, and which steps of a new plan were
 * already done before a replan (same id, same definition), so they are not run again.
 */
import type { Spec, Step } from '../spec/schema.js';

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

function clip(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A step that completed before a replan: its definition and its output. */
export interface DoneStep {
  step: Step;
  output: unknown;
}

/** Outputs of the new plan's steps that were done already: same id and the same definition. */
export function carriedOver(spec: Spec, done: Readonly<Record<string, DoneStep>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const step of spec.steps) {
    const prior = Object.hasOwn(done, step.id) ? done[step.id] : undefined;
    if (prior && canonical(prior.step) === canonical(step)) out[step.id] = prior.output;
  }
  return out;
}

/** JSON with sorted keys: two definitions are the same step when these are equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
