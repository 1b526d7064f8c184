/**
 * The step graph as a Mermaid flowchart. Approvals are hexagons, waits are circles, agents are stadiums (a loop of
 * model and tool calls), maps are parallelograms (one sub-step per item), calls are subroutines (another spec);
 * conditional steps have a dashed border and show their condition, steps that may call a tool a person must
 * approve have a red border, and an `after`-only dependency is a dotted edge. Drawn for a run, each step shows its
 * status in its label and is coloured by it.
 */
import type { ToolCatalog } from './catalog.js';
import { stepDependencies } from './graph.js';
import type { MapSubStep, Spec, Step } from './schema.js';
import { oneLine } from './text.js';
import { stepTools } from './uses.js';

/** A run's step statuses, their colours (after the kinds' classes, so they win), and their marks in a label. */
const STATUS_CLASSES: Record<string, { style: string; mark: string }> = {
  pending: { style: 'fill:#ffffff,stroke:#a0aec0,color:#4a5568', mark: '○ pending' },
  running: { style: 'fill:#ebf4ff,stroke:#2b6cb0,stroke-width:2px', mark: '▶ running' },
  waiting: { style: 'fill:#fefcbf,stroke:#b7791f,stroke-width:3px', mark: '⏸ waiting' },
  completed: { style: 'fill:#e6ffed,stroke:#2f855a', mark: '✓ completed' },
  skipped: { style: 'fill:#f7fafc,stroke:#a0aec0,color:#718096', mark: '↷ skipped' },
  failed: { style: 'fill:#fff5f5,stroke:#c53030,stroke-width:2px', mark: '✗ failed' },
  cancelled: { style: 'fill:#f7fafc,stroke:#718096,color:#718096', mark: '⊘ cancelled' },
};

/**
 * The spec's step graph as Mermaid flowchart text (`flowchart TD`, one line each). With a catalog, steps that may call
 * a tool a person must approve get a red border. With a run's step statuses (by step id), each step's label ends with
 * its status (`✓ completed`, `⏸ waiting`, ...) and a class of that name colours it. For a spec that passed validation.
 */
export function toMermaid(spec: Spec, tools?: ToolCatalog, status?: Readonly<Record<string, string>>): string {
  const lines = ['flowchart TD'];
  const ids = new Set(spec.steps.map((s) => s.id));
  const classes: Record<string, string[]> = { approval: [], conditional: [], gated: [] };
  spec.steps.forEach((step) => {
    const state = status?.[step.id];
    const mark = state === undefined ? undefined : (STATUS_CLASSES[state]?.mark ?? state);
    lines.push(`  ${step.id}${shape(step, label(step, mark))}`);
    if (state !== undefined && STATUS_CLASSES[state]) (classes[state] ??= []).push(step.id);
    if (step.kind === 'approval') classes.approval!.push(step.id);
    if (step.when !== undefined) classes.conditional!.push(step.id);
    if (stepTools(step).some((name) => (tools?.get(name)?.approval ?? 'never') !== 'never')) classes.gated!.push(step.id);
  });
  spec.steps.forEach((step, index) => {
    const after = new Set(step.after ?? []);
    const referenced = new Set([...stepDependencies({ ...step, after: [] }, index)]);
    for (const dep of stepDependencies(step, index)) {
      if (!ids.has(dep) || dep === step.id) continue;
      lines.push(`  ${dep} ${after.has(dep) && !referenced.has(dep) ? '-.->' : '-->'} ${step.id}`);
    }
  });
  lines.push('  classDef approval fill:#fff4d6,stroke:#b7791f;');
  lines.push('  classDef conditional stroke-dasharray: 5 5;');
  lines.push('  classDef gated stroke:#c53030,stroke-width:2px;');
  if (status) for (const [name, { style }] of Object.entries(STATUS_CLASSES)) if (classes[name]) lines.push(`  classDef ${name} ${style};`);
  for (const [name, members] of Object.entries(classes)) if (members.length > 0) lines.push(`  class ${members.join(',')} ${name};`);
  return `${lines.join('\n')}\n`;
}

function label(step: Step, mark: string | undefined): string {
  const parts = [step.id];
  switch (step.kind) {
    case 'tool':
      parts.push(`tool ${step.tool}`);
      break;
    case 'llm':
      parts.push(modelLabel(step));
      break;
    case 'approval':
      parts.push(`approval: ${truncate(step.title)}`);
      break;
    case 'wait':
      parts.push(`wait ${step.duration}`);
      break;
    case 'agent':
      parts.push(
        truncate(`agent: tools ${step.tools.join(', ')}`),
        `at most ${step.maxTurns} turn${step.maxTurns === 1 ? '' : 's'}${step.output ? ', structured' : ''}`,
      );
      break;
    case 'map':
      parts.push(`map over ${truncate(step.items)}: ${subStep(step.step)}`);
      break;
    case 'call':
      parts.push(`call ${step.spec}`);
      break;
  }
  if (step.when !== undefined) parts.push(`when ${truncate(step.when)}`);
  if (mark !== undefined) parts.push(mark);
  return parts.map(escape).join('<br/>');
}

function modelLabel(call: { output?: unknown }): string {
  return call.output ? 'llm (structured)' : 'llm';
}

function subStep(step: MapSubStep): string {
  return step.kind === 'tool' ? `tool ${step.tool}` : modelLabel(step);
}

function shape(step: Step, text: string): string {
  switch (step.kind) {
    case 'approval':
      return `{{"${text}"}}`;
    case 'wait':
      return `(("${text}"))`;
    case 'agent':
      return `(["${text}"])`;
    case 'map':
      return `[/"${text}"/]`;
    case 'call':
      return `[["${text}"]]`;
    case 'tool':
    case 'llm':
      return `["${text}"]`;
  }
}

const truncate = (text: string) => oneLine(text, 48);

/** Mermaid reads entity codes inside quoted labels. */
function escape(text: string): string {
  return text.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}
