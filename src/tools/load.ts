/**
 * Loading a tools module: a .ts or .js file whose default export is a list of tools made with defineTool.
 * TypeScript is loaded through tsx, so users need no build step. Each failure has its own code and names
 * the file.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isTool, type Tool } from './define.js';
import { TrellisError } from '../errors.js';

/** Why a tools module was refused: no such file, it threw while loading, its default export is not a list of tools, or two tools share a name. */
export type ToolsModuleErrorCode = 'TOOLS_MODULE_NOT_FOUND' | 'TOOLS_MODULE_THREW' | 'TOOLS_MODULE_BAD_EXPORT' | 'TOOLS_MODULE_DUPLICATE';

/** A tools module loadToolsModule refused: `code` says why, `file` is the path as given, and the message names both. */
export class ToolsModuleError extends TrellisError {
  declare readonly code: ToolsModuleErrorCode;
  constructor(
    code: ToolsModuleErrorCode,
    /** The module's path, as given. */
    readonly file: string,
    message: string,
  ) {
    super(code, `tools module ${file}: ${message}`);
  }
}

/**
 * Loads a tools module: a .ts or .js file (relative to the working directory) whose default export is a non-empty list
 * of tools made with defineTool. A .ts file needs no build step (it is loaded through tsx).
 *
 * @throws {ToolsModuleError} with code TOOLS_MODULE_NOT_FOUND, TOOLS_MODULE_THREW, TOOLS_MODULE_BAD_EXPORT or
 *   TOOLS_MODULE_DUPLICATE.
 */
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
  const list = defaultExport(mod);
  const expected = 'the default export must be a list of tools made with defineTool';
  if (!Array.isArray(list)) {
    const got = list === undefined ? `there is no default export${namedExports(mod)}` : `got ${describeValue(list)}`;
    throw new ToolsModuleError(
      'TOOLS_MODULE_BAD_EXPORT',
      file,
      `${expected}; ${got}${isTool(list) ? `; write \`export default [${list.name}]\`` : ''}`,
    );
  }
  // A module without tools is a mistake (a wrong file, an export forgotten): without tools, leave the module out.
  if (list.length === 0)
    throw new ToolsModuleError('TOOLS_MODULE_BAD_EXPORT', file, `${expected}; got an empty list (a tools module needs at least one tool)`);
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (!isTool(item))
      throw new ToolsModuleError(
        'TOOLS_MODULE_BAD_EXPORT',
        file,
        `item ${i} of the default export is not a tool made with defineTool (got ${describeValue(item)})`,
      );
    if (seen.has(item.name)) throw new ToolsModuleError('TOOLS_MODULE_DUPLICATE', file, `two tools are named "${item.name}"`);
    seen.add(item.name);
  });
  return list as Tool[];
}

/**
 * tsx compiles a .ts file outside a `"type": "module"` package as CommonJS: the namespace's `default` is then
 * the whole `exports` object, marked `__esModule`, and the module's own default export is inside it.
 */
function defaultExport(mod: { default?: unknown }): unknown {
  const value = mod.default;
  const compiled = typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { __esModule?: unknown }).__esModule === true;
  return compiled ? (value as { default?: unknown }).default : value;
}

/** The module's named exports, for the message that it has no default one. */
function namedExports(mod: { default?: unknown }): string {
  const names = Object.keys(mod.default ?? mod).filter((k) => k !== 'default');
  return names.length === 0 ? '' : ` (it exports ${names.join(', ')})`;
}

/** What a value is, for a message: "a number", "an object named "pong"", "one tool ("ping")". */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'a list';
  if (isTool(value)) return `one tool ("${value.name}"), not a list`;
  const type = typeof value;
  if (type === 'object') {
    const name = (value as { name?: unknown }).name;
    return typeof name === 'string' ? `an object named "${name}"` : 'an object';
  }
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

async function importTypeScript(path: string): Promise<{ default?: unknown }> {
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown };
}
