/**
 * Saved specs: a folder of specs by name (`NAME.json`, `NAME.yaml` or `NAME.yml`), as `trellis plan --out`
 * writes them. `call` steps run them by name; the worker reads them from TRELLIS_SPECS (default ./specs).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ToolCatalog } from '../spec/catalog.js';
import { formatProblem } from '../spec/problems.js';
import { SPEC_NAME_PATTERN, type Spec } from '../spec/schema.js';
import { validateSpecText } from '../spec/validate.js';

export const DEFAULT_SPECS_DIR = 'specs';
const EXTENSIONS = ['.json', '.yaml', '.yml'];

export class SavedSpecError extends Error {
  constructor(
    readonly code: 'SPEC_NOT_FOUND' | 'SPEC_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'SavedSpecError';
  }
}

/** Names of the saved specs in `dir` (none when it does not exist). */
export async function listSavedSpecs(dir: string): Promise<string[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  const names = files.flatMap((f) => {
    const ext = EXTENSIONS.find((e) => f.endsWith(e));
    const name = ext ? f.slice(0, -ext.length) : '';
    return SPEC_NAME_PATTERN.test(name) ? [name] : [];
  });
  return [...new Set(names)].sort();
}

/** Reads and validates one saved spec; throws SavedSpecError naming the file and its problems. */
export async function readSavedSpec(dir: string, name: string, tools?: ToolCatalog): Promise<Spec> {
  for (const ext of EXTENSIONS) {
    const file = join(dir, `${name}${ext}`);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const valid = validateSpecText(text, { filename: file, ...(tools && { tools }) });
    if (!valid.ok) throw new SavedSpecError('SPEC_INVALID', `saved spec ${file} is invalid:\n${valid.problems.map(formatProblem).join('\n')}`);
    return valid.spec;
  }
  const known = await listSavedSpecs(dir);
  throw new SavedSpecError(
    'SPEC_NOT_FOUND',
    `no saved spec "${name}" in ${resolve(dir)} (it has: ${known.join(', ') || 'none'}); save one with \`trellis plan GOAL --out ${join(dir, `${name}.json`)}\``,
  );
}

/** Every saved spec in `dir`, by name, for the validator's check of `call` steps. */
export async function readSpecLibrary(dir: string, tools?: ToolCatalog): Promise<Map<string, Spec>> {
  const names = await listSavedSpecs(dir);
  return new Map(await Promise.all(names.map(async (n) => [n, await readSavedSpec(dir, n, tools)] as const)));
}
