/**
 * What the validator and the planner know of tools: names, descriptions and JSON Schemas. Plain data, so the
 * spec language never imports tool code; src/tools builds a catalog from a tools module.
 */
/** A JSON Schema, as a plain object. */
export type JsonSchema = Record<string, unknown>;

/** One tool as the validator and the planner see it (describeTool makes one from a tool). */
export interface CatalogTool {
  /** The name specs call it by. */
  name: string;
  /** What it does; the planner shows it to the model. */
  description: string;
  /** JSON Schema of its args, as a caller writes them: a tool step's args are type-checked against it. */
  inputSchema: JsonSchema;
  /** JSON Schema of what it returns: `steps.X.field` references are checked against it. */
  outputSchema: JsonSchema;
  /** never; required: every call waits for a person; conditional: the tool's function of the args decides. */
  approval: 'never' | 'required' | 'conditional';
}

/** Tools by name: what ValidateOptions.tools, planSpec and stepOutputSchema read. toolCatalog(tools) makes one from a tools module. */
export type ToolCatalog = ReadonlyMap<string, CatalogTool>;

/** A catalog from catalog entries (from describeTool, or written by hand); a later duplicate name wins. */
export function catalogOf(tools: Iterable<CatalogTool>): ToolCatalog {
  return new Map([...tools].map((t) => [t.name, t]));
}
