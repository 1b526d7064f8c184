/**
 * Saved specs: a folder of specs by name (`NAME.json`, `NAME.yaml` or `NAME.yml`), as `trellis plan --out`
 * writes them. `call` steps run them by name; the worker reads them from TRELLIS_SPECS (default ./specs).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ToolCatalog } from '../spec/catalog.js';
import { libraryCallCycles } from '../spec/call-cycles.js';
import { formatProblem } from '../spec/problems.js';
import { SPEC_NAME_PATTERN, type Spec } from '../spec/schema.js';
import { specsCalled } from '../spec/uses.js';
import { validateSpec, validateSpecText } from '../spec/validate/index.js';
import { TrellisError } from '../errors.js';

export const DEFAULT_SPECS_DIR = 'specs';
const EXTENSIONS = ['.json', '.yaml', '.yml'];

export type SavedSpecErrorCode = 'SPEC_NOT_FOUND' | 'SPEC_INVALID' | 'SPEC_AMBIGUOUS' | 'SPECS_DIR_UNREADABLE';

export class SavedSpecError extends TrellisError {
  declare readonly code: SavedSpecErrorCode;
  constructor(code: SavedSpecErrorCode, message: string) {
    super(code, message);
  }
}

/** Names of the saved specs in `dir`; throws SPECS_DIR_UNREADABLE when `dir` is not a readable folder. */
export async function listSavedSpecs(dir: string): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'it is a file, not a directory' : (e as Error).message;
    throw new SavedSpecError('SPECS_DIR_UNREADABLE', `cannot read ${dir}: ${why}`);
  }
  const names = files.flatMap((f) => {
    const ext = EXTENSIONS.find((e) => f.endsWith(e));
    const name = ext ? f.slice(0, -ext.length) : '';
    return SPEC_NAME_PATTERN.test(name) ? [name] : [];
  });
  return [...new Set(names)].sort();
}

/** Reads and validates one saved spec; throws SavedSpecError naming the file and its problems. */
export async function readSavedSpec(dir: string, name: string, tools?: ToolCatalog): Promise<Spec> {
  const found: { file: string; text: string }[] = [];
  for (const ext of EXTENSIONS) {
    const file = join(dir, `${name}${ext}`);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) found.push({ file, text });
  }
  if (found.length > 1)
    throw new SavedSpecError('SPEC_AMBIGUOUS', `saved spec "${name}" is in ${found.map((f) => f.file).join(' and ')}: keep one of them`);
  const [only] = found;
  if (only) {
    const valid = validateSpecText(only.text, { filename: only.file, ...(tools && { tools }) });
    if (!valid.ok) throw new SavedSpecError('SPEC_INVALID', `saved spec ${only.file} is invalid:\n${valid.problems.map(formatProblem).join('\n')}`);
    return valid.spec;
  }
  // A folder that does not exist yet (the default ./specs, say) has no specs: that is what the message says.
  const known = await listSavedSpecs(dir).catch(() => []);
  throw new SavedSpecError(
    'SPEC_NOT_FOUND',
    `no saved spec "${name}" in ${resolve(dir)} (it has: ${known.join(', ') || 'none'}); save one with \`trellis plan GOAL --out ${join(dir, `${name}.json`)}\``,
  );
}

/**
 * Every saved spec in `dir`, by name, for the validator's check of `call` steps. The folder must exist; every
 * bad spec (invalid, saved twice under one name, or whose call steps do not fit the library: an unknown spec, a
 * wrong input, a cycle) is reported at once, in one SPEC_INVALID error.
 */
export async function readSpecLibrary(dir: string, tools?: ToolCatalog): Promise<Map<string, Spec>> {
  const names = await listSavedSpecs(dir);
  const results = await Promise.allSettled(names.map((n) => readSavedSpec(dir, n, tools)));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  const unexpected = errors.find((e) => !(e instanceof SavedSpecError));
  if (unexpected !== undefined) throw unexpected;
  const library = new Map(
    names.flatMap((n, i) => {
      const r = results[i]!;
      return r.status === 'fulfilled' ? [[n, r.value] as const] : [];
    }),
  );
  // Each spec's calls, against the others (a spec read alone cannot know them).
  for (const [name, spec] of library) {
    const valid = validateSpec(spec, { ...(tools && { tools }), specs: library, savedAs: name });
    if (!valid.ok)
      errors.push(new SavedSpecError('SPEC_INVALID', `saved spec "${name}" in ${dir}:\n${valid.problems.map(formatProblem).join('\n')}`));
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1)
    throw new SavedSpecError(
      'SPEC_INVALID',
      `${errors.length} saved specs in ${dir} are not usable:\n${errors.map((e) => (e as Error).message).join('\n')}`,
    );
  return library;
}

/**
 * The saved specs `names` and every spec they call in turn (a worker reads these before a run's first step), so a
 * missing or invalid spec anywhere down the calls, or calls that lead back to a spec they came from, fail the run
 * before it has any side effect.
 */
export async function readCalledSpecs(dir: string, names: readonly string[], tools?: ToolCatalog): Promise<Map<string, Spec>> {
  const found = new Map<string, Spec>();
  let next = [...new Set(names)];
  while (next.length > 0) {
    const read = await Promise.all(next.map(async (n) => [n, await readSavedSpec(dir, n, tools)] as const));
    for (const [n, spec] of read) found.set(n, spec);
    next = [...new Set(read.flatMap(([, spec]) => specsCalled(spec)))].filter((n) => !found.has(n));
  }
  const cycles = libraryCallCycles(found);
  if (cycles.length > 0) {
    throw new SavedSpecError('SPEC_INVALID', `saved specs in ${dir} call each other in a cycle: ${cycles.map((c) => c.join(' -> ')).join('; ')}`);
  }
  return found;
}
