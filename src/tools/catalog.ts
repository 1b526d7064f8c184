/** A tools module as the catalog the validator and the planner read: names, descriptions, JSON Schemas. */
import { z } from 'zod';
import type { CatalogTool, ToolCatalog } from '../spec/catalog.js';
import { catalogOf } from '../spec/catalog.js';
import { approvalSetting, type Tool } from './define.js';

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

export function toolCatalog(tools: readonly Tool[]): ToolCatalog {
  return catalogOf(tools.map(describeTool));
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}
