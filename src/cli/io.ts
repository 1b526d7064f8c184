/** What the commands share: reading a spec file, loading a tools module, and the exit codes (README: 0, 1, 2). */
import { readFile } from 'node:fs/promises';
import {
  formatProblem,
  problemWhere,
  validateSpecText,
  type Problem,
  type SpecLibrary,
  type ToolCatalog,
  type ValidationResult,
} from '../spec/index.js';
import { loadToolsModule, toolCatalog, ToolsModuleError, type Tool } from '../tools/index.js';
import { parsePlannerSchema, plannerConfigFromEnv, PlannerConfigError, type PlannerConfig, type PlannerSchema } from '../planner/config.js';
import { ConfigError, workerConfigFromEnv } from '../config.js';
import { TrellisError } from '../errors.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad usage: a missing file, a tools module that does not load, no connection. Exit 2. */
export class UsageError extends TrellisError {
  constructor(message: string) {
    super('USAGE', message);
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

/**
 * A planner prompt file (--prompt, --planner-prompt, TRELLIS_PLANNER_PROMPT). Without the {{catalog}} marker the
 * model would plan without seeing the tools, so such a file is refused before any model call.
 */
export async function readPromptFile(file: string): Promise<string> {
  const text = await readSpecFile(file);
  if (!text.includes('{{catalog}}'))
    throw new UsageError(`the prompt file ${file} has no {{catalog}} marker: the model would not see the tools; put {{catalog}} where the tools go`);
  return text;
}

/** A goal (plan's GOAL, run's --goal): an empty one would only spend a model call. */
export function requireGoal(goal: string, name: string): string {
  if (goal.trim() === '') throw new UsageError(`${name} is empty: say what the workflow should do`);
  return goal;
}

/** Planner model calls, repairs included, per plan: a bound keeps a hopeless model from spending without end. */
export const MAX_ATTEMPTS = 10;

/** The --attempts of plan and eval: a whole number from 1 to MAX_ATTEMPTS. */
export function parseAttempts(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_ATTEMPTS)
    throw new UsageError(
      `--attempts must be a whole number from 1 to ${MAX_ATTEMPTS} (model calls per plan, repairs included), got ${JSON.stringify(text)}`,
    );
  return n;
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

/**
 * A spec file validated with a tools module's catalog and the saved specs (--specs, else TRELLIS_SPECS), when given;
 * the catalog comes back too, for what the command does next (start the run, mark gated tools).
 */
export async function validateFile(
  file: string,
  toolsModule: string | undefined,
  specsDir?: string,
): Promise<{ result: ValidationResult; tools: ToolCatalog | undefined }> {
  const [text, tools] = await Promise.all([readSpecFile(file), loadCatalog(toolsModule)]);
  const specs = await loadLibrary(specsDir, tools);
  return { result: validateSpecText(text, { filename: file, ...(tools ? { tools } : {}), ...(specs ? { specs } : {}) }), tools };
}

/** The saved specs that call steps name (--specs DIR, else TRELLIS_SPECS): every one must be valid. */
export async function loadLibrary(specsDir: string | undefined, tools?: ToolCatalog): Promise<SpecLibrary | undefined> {
  const dir = specsDir ?? asUsageError(() => workerConfigFromEnv()).specsDir;
  if (dir === undefined) return undefined;
  const { readSpecLibrary, SavedSpecError } = await import('../library/saved-specs.js');
  try {
    return await readSpecLibrary(dir, tools);
  } catch (e) {
    if (e instanceof SavedSpecError) throw new UsageError(e.message);
    throw e;
  }
}

/** The planner's settings from the environment; a bad value is bad usage. */
export function plannerConfig(): PlannerConfig {
  return asUsageError(() => plannerConfigFromEnv());
}

/** A command's --schema / --planner-schema flag. */
export function plannerSchemaOption(value: string, flag: string): PlannerSchema {
  return asUsageError(() => parsePlannerSchema(value, flag));
}

/** A setting from the environment that cannot be used is bad usage (exit 2), named. */
export function asUsageError<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof PlannerConfigError || e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

export function printProblems(problems: readonly Problem[], stream: NodeJS.WritableStream = process.stdout): void {
  for (const p of problems) stream.write(`${formatProblem(p)}\n`);
}

export function problemJson(p: Problem): Record<string, unknown> {
  return { path: problemWhere(p), code: p.code, message: p.message };
}
