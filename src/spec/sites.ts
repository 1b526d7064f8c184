/**
 * Where a step holds expressions: its `when` (a bare expression), a map's `items` (a bare expression too) and its
 * template strings (`${...}` inside args, prompt, system, title, details, a call's input, a map's sub-step). The
 * validator, the graph and the interpreter all read them here.
 */
import type { PathSegment } from './problems.js';
import type { MapSubStep, Spec, Step } from './schema.js';

export interface ExpressionSite {
  path: PathSegment[];
  /**
   * condition: the whole text is one boolean expression (`when`); expression: the whole text is one expression of
   * any type (a map's `items`); template: text with ${...} parts.
   */
  kind: 'condition' | 'expression' | 'template';
  text: string;
  /** True inside a map's sub-step, where `item` and `index` are defined (ITEM_VARIABLES) besides the scope. */
  itemScope?: true;
}

export function stepSites(step: Step, index: number): ExpressionSite[] {
  const base: PathSegment[] = ['steps', index];
  const sites: ExpressionSite[] = [];
  if (step.when !== undefined) sites.push({ path: [...base, 'when'], kind: 'condition', text: step.when });
  const text = (field: string, value: string | undefined) => {
    if (value !== undefined) sites.push({ path: [...base, field], kind: 'template', text: value });
  };
  switch (step.kind) {
    case 'tool':
    case 'llm':
    case 'agent':
      callSites(step, base, sites);
      break;
    case 'approval':
      text('title', step.title);
      text('details', step.details);
      break;
    case 'wait':
      break;
    case 'map':
      // A step with shape problems reaches here without its broken fields (validate.ts): items or step may be absent.
      if (step.items !== undefined) sites.push({ path: [...base, 'items'], kind: 'expression', text: step.items });
      if (step.step !== undefined) callSites(step.step, [...base, 'step'], sites, ITEM_SCOPE);
      break;
    case 'call':
      if (step.input !== undefined) collectStrings(step.input, [...base, 'input'], sites);
      break;
  }
  return sites;
}

export function outputSites(spec: Spec): ExpressionSite[] {
  const sites: ExpressionSite[] = [];
  if (spec.output !== undefined) collectStrings(spec.output, ['output'], sites);
  return sites;
}

const ITEM_SCOPE = { itemScope: true } as const;
type Scoping = typeof ITEM_SCOPE | Record<string, never>;

/** The templates of a tool call (args) or a model call (prompt, system): a step's own, or a map's sub-step. */
function callSites(call: Step | MapSubStep, base: PathSegment[], into: ExpressionSite[], scoping: Scoping = {}): void {
  if (call.kind === 'tool') {
    if (call.args) collectStrings(call.args, [...base, 'args'], into, scoping);
    return;
  }
  if (call.kind !== 'llm' && call.kind !== 'agent') return;
  for (const field of ['prompt', 'system'] as const) {
    const value = call[field];
    if (value !== undefined) into.push({ path: [...base, field], kind: 'template', text: value, ...scoping });
  }
}

/** Every string inside a JSON value that holds `${`, as a template site. */
function collectStrings(value: unknown, path: PathSegment[], into: ExpressionSite[], scoping: Scoping = {}): void {
  if (typeof value === 'string') {
    if (value.includes('${')) into.push({ path, kind: 'template', text: value, ...scoping });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => collectStrings(v, [...path, i], into, scoping));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectStrings(v, [...path, k], into, scoping);
  }
}
