/**
 * Loading a tools module: a .ts or .js file whose default export is a list of tools made with defineTool.
 * TypeScript is loaded through tsx, so users need no build step. Each failure has its own code and names
 * the file.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isTool, type Tool } from './define.js';

export type ToolsModuleErrorCode = 'TOOLS_MODULE_NOT_FOUND' | 'TOOLS_MODULE_THREW' | 'TOOLS_MODULE_BAD_EXPORT' | 'TOOLS_MODULE_DUPLICATE';

export class ToolsModuleError extends Error {
  constructor(
    readonly code: ToolsModuleErrorCode,
    readonly file: string,
    message: string,
  ) {
    super(`tools module ${file}: ${message}`);
    this.name = 'ToolsModuleError';
  }
}

export async function loadToolsModule(file: string): Promise<Tool[]> {
  const path = resolve(file);
  if (!existsSync(path)) throw new ToolsModuleError('TOOLS_MODULE_NOT_FOUND', file, 'no such file');
  let mod: { default?: unknown };
  try {
    mod = /\.[cm]?ts$/.test(path) ? await importTypeScript(path) : await import(pathToFileURL(path).href);
  } catch (e) {
    const err = e as Error;
    throw new ToolsModuleError('TOOLS_MODULE_THREW', file, `failed to load: ${err?.message ?? String(e)}`);
  }
  const list = mod.default;
  if (!Array.isArray(list)) {
    throw new ToolsModuleError(
      'TOOLS_MODULE_BAD_EXPORT',
      file,
      `the default export must be an array of tools made with defineTool; got ${list === undefined ? 'no default export' : typeof list}`,
    );
  }
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (!isTool(item))
      throw new ToolsModuleError('TOOLS_MODULE_BAD_EXPORT', file, `item ${i} of the default export is not a tool made with defineTool`);
    if (seen.has(item.name)) throw new ToolsModuleError('TOOLS_MODULE_DUPLICATE', file, `two tools are named "${item.name}"`);
    seen.add(item.name);
  });
  return list as Tool[];
}

async function importTypeScript(path: string): Promise<{ default?: unknown }> {
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
}
