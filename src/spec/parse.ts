/**
 * Spec text (JSON or YAML) to a document, with the line and column of a syntax error. The size limit is
 * checked on the text before parsing, so a huge spec is refused without reading it.
 */
import { parseDocument } from 'yaml';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { problem, type Problem } from './problems.js';

export type ParseResult = { ok: true; value: unknown; bytes: number } | { ok: false; problems: Problem[] };

export type SpecFormat = 'json' | 'yaml';

/** JSON when the name ends in .json or the text starts with `{`; YAML otherwise. */
export function detectFormat(text: string, filename?: string): SpecFormat {
  if (filename && /\.json$/i.test(filename)) return 'json';
  if (filename && /\.ya?ml$/i.test(filename)) return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

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
  return format === 'json' ? parseJson(text, bytes) : parseYaml(text, bytes);
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

/** UTF-8 byte length without Node's Buffer (src/spec runs inside workflows too). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
