/**
 * `${expr}` inside strings. A string that is exactly one `${expr}` takes the value with its type; otherwise
 * each `${expr}` is replaced by its text. `$${` writes a literal `${`.
 */
import { compileExpression, ExpressionEvaluationError, type CompiledExpression, type EvaluateOptions, type Scope } from './expression.js';
import { setOwn } from './own.js';
import { TrellisError } from '../errors.js';

/** A piece of a template: literal text, or one `${...}` expression. */
export type TemplatePart = string | { expression: string; /** offset of the expression text in the string */ offset: number };

/** A template whose `${` is not closed, or whose `${}` holds no expression: parseTemplate throws it. */
export class TemplateSyntaxError extends TrellisError {
  constructor(
    /** What is wrong: `"${" is not closed by "}"`. */
    readonly reason: string,
    /** Where, as a 0-based offset in the text. */
    readonly offset: number,
  ) {
    super('TEMPLATE_SYNTAX', reason);
  }
}

/**
 * Splits a string into text and `${...}` parts; braces and quotes inside the expression are respected, and `$${`
 * is a literal `${`. Throws TemplateSyntaxError; the expressions are not parsed here.
 */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
    } else if (text.startsWith('${', i)) {
      const start = i + 2;
      const end = findClosingBrace(text, start);
      if (end < 0) throw new TemplateSyntaxError('"${" is not closed by "}"', i);
      if (literal) parts.push(literal);
      literal = '';
      const expression = text.slice(start, end);
      if (expression.trim() === '') throw new TemplateSyntaxError('"${}" holds no expression', i);
      parts.push({ expression, offset: start });
      i = end + 1;
    } else {
      literal += text[i];
      i++;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

function findClosingBrace(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (text.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = undefined;
      }
    } else if (c === '"' || c === "'") {
      quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length - 1;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

export function hasTemplate(text: string): boolean {
  return text.includes('${');
}

/**
 * The value of a template string: typed when it is exactly one `${expr}` (`'${input.total}'` gives a number), text
 * otherwise (non-strings inside read as JSON). Throws TemplateSyntaxError, ExpressionSyntaxError, or
 * ExpressionEvaluationError (ExpressionLimitError past a limit).
 */
export function renderTemplate(text: string, scope: Scope, options?: EvaluateOptions): unknown {
  if (!hasTemplate(text)) return text;
  const parts = parseTemplate(text);
  if (parts.length === 1 && typeof parts[0] !== 'string') return compile(parts[0]!).evaluate(scope, options);
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : stringify(compile(part).evaluate(scope, options));
  return out;
}

function compile(part: Exclude<TemplatePart, string>): CompiledExpression {
  return compileExpression(part.expression);
}

/** How a value reads inside text: strings as they are, everything else as JSON (so null reads "null"). */
export function stringify(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

/** Renders every string inside a JSON value (tool args, the run output) with renderTemplate; other values stay as they are. Throws as it does. */
export function renderValue(value: unknown, scope: Scope, options?: EvaluateOptions): unknown {
  if (typeof value === 'string') return renderTemplate(value, scope, options);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope, options));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, renderValue(v, scope, options));
    return out;
  }
  return value;
}

/**
 * Evaluates a `when` condition (a bare expression, no `${...}`). Throws ExpressionEvaluationError when the value is
 * not true or false, and as compileExpression and evaluate do.
 */
export function evaluateCondition(source: string, scope: Scope, options?: EvaluateOptions): boolean {
  const value = compileExpression(source).evaluate(scope, options);
  if (typeof value !== 'boolean') throw new ExpressionEvaluationError(source, `gave ${stringify(value)}, not true or false`);
  return value;
}
