/**
 * A problem found in a spec: where (a JSON path), what (a message a person can act on), and a stable code
 * that programs can switch on. The validator reports every problem at once, never a stack trace.
 */
/** What kind of problem it is: stable, so a program can switch on it (each member's comment says when). */
export type ProblemCode =
  | 'SYNTAX' // the text is not JSON or YAML
  | 'TOO_LARGE' // bytes or steps over the limit
  | 'SHAPE' // a field is missing, of the wrong type, or unknown
  | 'UNKNOWN_KIND'
  | 'INVALID_ID'
  | 'DUPLICATE_ID'
  | 'UNKNOWN_TOOL'
  | 'UNKNOWN_SPEC' // a call step names a spec that the spec library does not hold
  | 'UNKNOWN_STEP' // `after` or an expression names a step that does not exist
  | 'SELF_REFERENCE'
  | 'UNKNOWN_VARIABLE' // an expression names something other than input, steps, run (and item, index in a map's step)
  | 'CYCLE' // steps that depend on each other, or call steps that lead back to a spec they came from
  | 'EXPRESSION' // an expression that does not parse
  | 'DURATION'
  | 'JSON_SCHEMA' // an input or output schema that is not valid JSON Schema
  | 'TYPE'; // the type check: tool args against the tool's input, fields against a step's output

/** One step of a path into the document: a field name, or a list index. */
export type PathSegment = string | number;

/** One problem in a spec (or a run's input): where, what kind, and a message a person can act on. formatProblem prints it. */
export interface Problem {
  code: ProblemCode;
  /** Where, as segments: ['steps', 3, 'tool']. Empty for the document as a whole. */
  path: PathSegment[];
  /** What is wrong, and often how to fix it: `unknown tool "refnud_order" (did you mean "refund_order"?)`. */
  message: string;
  /** For syntax errors: where in the text, since the document has no paths yet. */
  location?: { line: number; column: number };
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `steps[3].args.amount`; `(root)` for the document itself. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** The line the CLI prints: `steps[3].tool: unknown tool "refnud_order"`. */
export function formatProblem(p: Problem): string {
  return `${problemWhere(p)}: ${p.message}`;
}

/** The path, or for a syntax error the line and column. */
export function problemWhere(p: Problem): string {
  return p.location && p.path.length === 0 ? `line ${p.location.line}, column ${p.location.column}` : formatPath(p.path);
}

export function problem(code: ProblemCode, path: PathSegment[], message: string): Problem {
  return { code, path, message };
}

/**
 * Sorts by path, segment by segment (numbers numerically, so steps[10] follows steps[2]); at the same path, syntax
 * errors first in text order, then by message. For `problems.sort(compareProblems)`.
 */
export function compareProblems(a: Problem, b: Problem): number {
  const n = Math.min(a.path.length, b.path.length);
  for (let i = 0; i < n; i++) {
    const x = a.path[i]!;
    const y = b.path[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  if (a.path.length !== b.path.length) return a.path.length - b.path.length;
  // Syntax errors (a line and column) come first, in text order; then the rest by message.
  if (a.location || b.location) {
    if (!a.location) return 1;
    if (!b.location) return -1;
    if (a.location.line !== b.location.line) return a.location.line - b.location.line;
    if (a.location.column !== b.location.column) return a.location.column - b.location.column;
  }
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}
