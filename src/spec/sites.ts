/**
 * Where a step holds expressions: its `when` (a bare expression) and its template strings (`${...}` inside
 * args, prompt, system, title, details). The validator, the graph and the interpreter all read them here.
 */
import type { PathSegment } from './problems.js';
import type { Spec, Step } from './schema.js';

export interface ExpressionSite {
  path: PathSegment[];
  /** condition: the whole text is one expression; template: text with ${...} parts. */
  kind: 'condition' | 'template';
  text: string;
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
      if (step.args) collectStrings(step.args, [...base, 'args'], sites);
      break;
    case 'llm':
      text('prompt', step.prompt);
      text('system', step.system);
      break;
    case 'approval':
      text('title', step.title);
      text('details', step.details);
      break;
    case 'wait':
      break;
  }
  return sites;
}

export function outputSites(spec: Spec): ExpressionSite[] {
  const sites: ExpressionSite[] = [];
  if (spec.output !== undefined) collectStrings(spec.output, ['output'], sites);
  return sites;
}

/** Every string inside a JSON value that holds `${`, as a template site. */
function collectStrings(value: unknown, path: PathSegment[], into: ExpressionSite[]): void {
  if (typeof value === 'string') {
    if (value.includes('${')) into.push({ path, kind: 'template', text: value });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => collectStrings(v, [...path, i], into));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectStrings(v, [...path, k], into);
  }
}
