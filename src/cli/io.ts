/** What the commands share: reading a spec file, loading a tools module, and the exit codes of DESIGN.md. */
import { readFile } from 'node:fs/promises';
import { formatProblem, problemWhere, validateSpecText, type Problem, type ToolCatalog, type ValidationResult } from '../spec/index.js';
import { loadToolsModule, toolCatalog, ToolsModuleError, type Tool } from '../tools/index.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad usage: a missing file, a tools module that does not load, no connection. Exit 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export async function readSpecFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`,
    );
  }
}

export async function loadTools(toolsModule: string): Promise<Tool[]> {
  try {
    return await loadToolsModule(toolsModule);
  } catch (e) {
    if (e instanceof ToolsModuleError) throw new UsageError(e.message);
    throw e;
  }
}

export async function loadCatalog(toolsModule: string | undefined): Promise<ToolCatalog | undefined> {
  return toolsModule === undefined ? undefined : toolCatalog(await loadTools(toolsModule));
}

export async function validateFile(file: string, toolsModule: string | undefined): Promise<ValidationResult> {
  const [text, tools] = await Promise.all([readSpecFile(file), loadCatalog(toolsModule)]);
  return validateSpecText(text, { filename: file, ...(tools ? { tools } : {}) });
}

export function printProblems(problems: readonly Problem[], stream: NodeJS.WritableStream = process.stdout): void {
  for (const p of problems) stream.write(`${formatProblem(p)}\n`);
}

export function problemJson(p: Problem): Record<string, unknown> {
  return { path: problemWhere(p), code: p.code, message: p.message };
}
