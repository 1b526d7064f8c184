/**
 * CEL's `matches` with RE2 semantics (re2js, a pure JS port of RE2): matching takes time linear in the text, so a
 * pattern such as `(a+)+$` cannot wedge a workflow task the way JS RegExp backtracking does. RE2 has no
 * backreferences or lookaround; such a pattern does not compile. Pure: it runs inside workflows.
 */
import { RE2JS } from 're2js';
import { TrellisError } from '../errors.js';

/** A pattern RE2 rejects, with RE2's reason. */
export class InvalidRegexError extends TrellisError {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(
      'INVALID_REGEX',
      `invalid regular expression ${JSON.stringify(pattern)} in matches: ${reason} (Trellis uses RE2 syntax: no backreferences or lookaround)`,
    );
  }
}

/** Compiled patterns, or the reason one does not compile, keyed by the pattern text alone (deterministic). */
const compiled = new Map<string, RE2JS | InvalidRegexError>();
/**
 * Distinct patterns kept; past it the cache starts over, so a long-lived worker does not grow. Kept small: each
 * pattern's lazily built DFA may hold up to 8 MB of states.
 */
const MAX_COMPILED = 100;

function cachedCompile(pattern: string): RE2JS | InvalidRegexError {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  let result: RE2JS | InvalidRegexError;
  try {
    result = RE2JS.compile(pattern);
  } catch (e) {
    result = new InvalidRegexError(pattern, ((e as Error).message ?? String(e)).replace(/^error parsing regexp: /, ''));
  }
  compiled.set(pattern, result);
  return result;
}

/** Why RE2 rejects this pattern; undefined when it compiles. */
export function regexProblem(pattern: string): InvalidRegexError | undefined {
  const re = cachedCompile(pattern);
  return re instanceof InvalidRegexError ? re : undefined;
}

/** The compiled pattern; throws InvalidRegexError. CEL `matches` is `.test(text)`: a match anywhere (PartialMatch). */
export function compileRegex(pattern: string): RE2JS {
  const re = cachedCompile(pattern);
  if (re instanceof InvalidRegexError) throw re;
  return re;
}
