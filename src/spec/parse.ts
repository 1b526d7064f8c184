/**
 * Spec text (JSON or YAML) to a document, with the line and column of a syntax error. The size limit is
 * checked on the text before parsing, so a huge spec is refused without reading it.
 */
import { parseDocument } from 'yaml';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { problem, type PathSegment, type Problem } from './problems.js';
import { utf8Length } from './utf8.js';

export { utf8Length };

/** The parsed document and its size in UTF-8 bytes, or its problems (SYNTAX with a line and column, or TOO_LARGE). */
export type ParseResult = { ok: true; value: unknown; bytes: number } | { ok: false; problems: Problem[] };

/** The text format of a spec (or an eval suite). */
export type SpecFormat = 'json' | 'yaml';

/** JSON when the name ends in .json, YAML when it ends in .yaml or .yml; else JSON when the text starts with `{` or `[`, YAML otherwise. */
export function detectFormat(text: string, filename?: string): SpecFormat {
  if (filename && /\.json$/i.test(filename)) return 'json';
  if (filename && /\.ya?ml$/i.test(filename)) return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

/**
 * Spec text to a document, without validating it: the size limit (`limits.maxBytes`, default 1 MiB) checked first, a
 * byte order mark dropped, then JSON or YAML (`format`, else detectFormat). A number JSON cannot hold (1e309, .inf,
 * .nan) is a SYNTAX problem at its path. Never throws on bad input.
 */
export function parseSpecText(text: string, options: { format?: SpecFormat; filename?: string; limits?: Partial<Limits> } = {}): ParseResult {
  const maxBytes = options.limits?.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  // UTF-8 takes at least a byte a character: a text longer than the limit is refused without counting.
  if (text.length > maxBytes) {
    const size = `at least ${text.length.toLocaleString('en-US')} bytes; the limit is ${maxBytes.toLocaleString('en-US')}`;
    return { ok: false, problems: [problem('TOO_LARGE', [], `the spec is ${size}`)] };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark, as some editors write
  const bytes = utf8Length(text);
  if (bytes > maxBytes) {
    return {
      ok: false,
      problems: [problem('TOO_LARGE', [], `the spec is ${bytes.toLocaleString('en-US')} bytes; the limit is ${maxBytes.toLocaleString('en-US')}`)],
    };
  }
  const format = options.format ?? detectFormat(text, options.filename);
  const parsed = format === 'json' ? parseJson(text, bytes) : parseYaml(text, bytes);
  if (!parsed.ok) return parsed;
  const bad = nonFiniteNumbers(parsed.value);
  return bad.length === 0 ? parsed : { ok: false, problems: bad.map((path) => nonFiniteProblem(parsed.value, path)) };
}

/**
 * Where a parsed document holds a number JSON cannot: 1e309 parses as Infinity (YAML's .inf and .nan too), which
 * JSON.stringify would turn into null on its way to a workflow.
 */
export function nonFiniteNumbers(value: unknown): PathSegment[][] {
  // Parent links, not a path per value: a deeply nested document costs no more than its size.
  type Visit = { value: unknown; key?: PathSegment; parent?: Visit };
  const found: PathSegment[][] = [];
  const stack: Visit[] = [{ value }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const v = visit.value;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      const path: PathSegment[] = [];
      for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.push(at.key);
      found.push(path.reverse());
    } else if (v !== null && typeof v === 'object') {
      const entries: Array<[PathSegment, unknown]> = Array.isArray(v) ? v.map((item, i) => [i, item]) : Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], key: entries[i]![0], parent: visit });
    }
  }
  return found;
}

function nonFiniteProblem(root: unknown, path: PathSegment[]): Problem {
  const n = path.reduce<unknown>((v, key) => (v as Record<PathSegment, unknown>)[key], root) as number;
  const message = Number.isNaN(n)
    ? 'NaN is not a number JSON can hold; write a number, or a string'
    : `the number is too large for JSON (it reads as ${n}); write a smaller number, or a string`;
  return problem('SYNTAX', path, message);
}

function parseJson(text: string, bytes: number): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text), bytes };
  } catch (e) {
    const message = (e as Error).message;
    const at = /at position (\d+)/.exec(message);
    const reason = message.replace(/ in JSON at position \d+.*$/s, '').replace(/, (?:\.\.\.)?".*is not valid JSON$/s, '');
    // Some of V8's messages carry no position: YAML reads JSON too and says where it stopped.
    const where = at ? lineColumn(text, Number(at[1])) : yamlErrorPosition(text);
    return { ok: false, problems: [syntaxProblem(`invalid JSON: ${reason}`, where)] };
  }
}

function parseYaml(text: string, bytes: number): ParseResult {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return syntaxProblem(
          `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
          pos && { line: pos.line, column: pos.col },
        );
      }),
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }), bytes };
  } catch (e) {
    // An alias bomb, or nesting too deep to read.
    return { ok: false, problems: [syntaxProblem(`invalid YAML: ${(e as Error).message}`)] };
  }
}

function yamlErrorPosition(text: string): { line: number; column: number } | undefined {
  const pos = parseDocument(text, { prettyErrors: true }).errors[0]?.linePos?.[0];
  return pos && { line: pos.line, column: pos.col };
}

function syntaxProblem(message: string, where?: { line: number; column: number }): Problem {
  return where ? { ...problem('SYNTAX', [], message), location: where } : problem('SYNTAX', [], message);
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
