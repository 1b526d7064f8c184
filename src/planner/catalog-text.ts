/**
 * The tools catalog as the planner's prompt shows it: per tool its name, policy, description, args and output as
 * TypeScript-like types. The output types matter as much as the args: the plan refers to `steps.X.field`, and the
 * validator checks those references against the same schemas.
 */
import type { CatalogTool, ToolCatalog } from '../spec/catalog.js';
import type { SpecLibrary } from '../spec/uses.js';
import { typeText } from './type-text.js';

const POLICY: Record<CatalogTool['approval'], string> = {
  never: '',
  required: ' [a person approves every call]',
  conditional: ' [a person approves some calls, decided by the args]',
};

/** The catalog (and the saved specs, when given) as the planner's prompt shows it in place of `{{catalog}}`. */
export function catalogText(catalog: ToolCatalog, specs?: SpecLibrary): string {
  const tools =
    catalog.size === 0
      ? '(no tools: plan with llm, approval and wait steps only)'
      : [...catalog.values()]
          .map((t) => `- ${t.name}${POLICY[t.approval]}: ${t.description}\n  args: ${typeText(t.inputSchema)}\n  output: ${typeText(t.outputSchema)}`)
          .join('\n');
  if (specs === undefined || specs.size === 0) return tools;
  // Saved specs, for `call` steps: a plan that worked once, run by name as a child run.
  const saved = [...specs].map(([name, spec]) => {
    const output =
      spec.output !== null && typeof spec.output === 'object' && !Array.isArray(spec.output) ? Object.keys(spec.output).join(', ') : 'its output';
    return `- ${name}: ${spec.description ?? spec.name}\n  input: ${spec.input ? typeText(spec.input) : 'none'}\n  output fields: ${output}`;
  });
  return `${tools}\n\nSaved specs (a \`call\` step runs one by name: {"id":"x","kind":"call","spec":"NAME","input":{...}}):\n${saved.join('\n')}`;
}
