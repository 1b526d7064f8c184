/** A tools module as the catalog the validator and the planner read: names, descriptions, JSON Schemas. */
import { z } from 'zod';
import type { CatalogTool, ToolCatalog } from '../spec/catalog.js';
import { catalogOf } from '../spec/catalog.js';
import { approvalSetting, type Tool } from './define.js';

/** A tool as a catalog entry: its name, description, policy, and its zod schemas as JSON Schema (input as a caller writes it). */
export function describeTool(tool: Tool): CatalogTool {
  return {
    name: tool.name,
    description: tool.description,
    // Input as a caller writes it (defaults optional); output as the tool returns it.
    inputSchema: jsonSchemaOf(tool.input, 'input'),
    outputSchema: jsonSchemaOf(tool.output, 'output'),
    approval: approvalSetting(tool),
  };
}

/** The catalog of a list of tools (a tools module's default export), for ValidateOptions.tools, StartOptions.tools and planSpec. */
export function toolCatalog(tools: readonly Tool[]): ToolCatalog {
  return catalogOf(tools.map(describeTool));
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}
