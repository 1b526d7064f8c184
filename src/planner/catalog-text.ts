/**
 * The tools catalog as the planner's prompt shows it: per tool its name, policy, description, args and output as
 * TypeScript-like types. The output types matter as much as the args: the plan refers to `steps.X.field`, and the
 * validator checks those references against the same schemas.
 */
import type { CatalogTool, ToolCatalog } from '../spec/catalog.js';
import { typeText } from './type-text.js';

const POLICY: Record<CatalogTool['approval'], string> = {
  never: '',
  required: ' [a person approves every call]',
  conditional: ' [a person approves some calls, decided by the args]',
};

export function catalogText(catalog: ToolCatalog): string {
  if (catalog.size === 0) return '(no tools: plan with llm, approval and wait steps only)';
  return [...catalog.values()]
    .map((t) => `- ${t.name}${POLICY[t.approval]}: ${t.description}\n  args: ${typeText(t.inputSchema)}\n  output: ${typeText(t.outputSchema)}`)
    .join('\n');
}
