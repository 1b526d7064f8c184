/**
 * What the validator and the planner know of tools: names, descriptions and JSON Schemas. Plain data, so the
 * spec language never imports tool code; src/tools builds a catalog from a tools module.
 */
export type JsonSchema = Record<string, unknown>;

export interface CatalogTool {
  name: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  /** never; required: every call waits for a person; conditional: the tool's function of the args decides. */
  approval: 'never' | 'required' | 'conditional';
}

export type ToolCatalog = ReadonlyMap<string, CatalogTool>;

export function catalogOf(tools: Iterable<CatalogTool>): ToolCatalog {
  return new Map([...tools].map((t) => [t.name, t]));
}
