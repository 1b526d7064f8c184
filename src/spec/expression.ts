/**
 * CEL expressions (@marcbachmann/cel-js): parse, find what they reference, evaluate.
 *
 * Numbers: JSON has one number type, CEL has int and double and no `double + int`. So a JSON number that is
 * a whole number enters CEL as an int and any other as a double, and mixed int/double arithmetic is defined
 * (it yields a double). `steps.order.total + 1` works whether total is 40 or 40.5; `7 / 2` is 3 (int
 * division, as in CEL), `7.0 / 2` or `double(x) / 2` is 3.5. Values leave CEL as JSON: ints become numbers.
 */
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { boundedMatches, boundProgram, LimitExceeded, runBounded, type CostMeter } from './cel-bounds.js';
import { analyze } from './expression-analysis.js';
import { setOwn } from './own.js';
import { TrellisError } from '../errors.js';

export type { CostMeter } from './cel-bounds.js';

export const SCOPE_VARIABLES = ['input', 'steps', 'run'] as const;
/** Defined only inside a map's sub-step: the item and its index (from 0). */
export const ITEM_VARIABLES = ['item', 'index'] as const;

const env = createEnvironment();

function createEnvironment(): Environment {
  const e = new Environment({
    unlistedVariablesAreDyn: true,
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: false,
    // A model writes some of these expressions: keep each one small.
    limits: { maxAstNodes: 2_000, maxDepth: 64, maxListElements: 1_000, maxMapEntries: 1_000, maxCallArguments: 32 },
  });
  const ops = {
    '+': (a: number, b: number) => a + b,
    '-': (a: number, b: number) => a - b,
    '*': (a: number, b: number) => a * b,
    '/': (a: number, b: number) => a / b,
  };
  for (const [op, f] of Object.entries(ops)) {
    e.registerOperator(`double ${op} int`, (a: number, b: bigint) => f(a, Number(b)));
    e.registerOperator(`int ${op} double`, (a: bigint, b: number) => f(Number(a), b));
  }
  // CEL's global form of matches; the library has only text.matches(pattern), which cel-bounds gives RE2.
  e.registerFunction('matches(string, string): bool', boundedMatches);
  return e;
}

/** A `steps.X.a.b` chain found in an expression: the step id and the fields selected after it. */
export interface StepReference {
  step: string;
  fields: string[];
  /** Offsets of the chain within the expression source. */
  start: number;
  end: number;
}

/** A parsed CEL expression: what it references (for the validator and the step graph), and how to evaluate it. */
export interface CompiledExpression {
  /** The expression text, as given. */
  source: string;
  /** Steps referenced through `steps.X`, in order of appearance. */
  references: StepReference[];
  /** Free variables the expression reads (input, steps, run, or an unknown name). */
  variables: Set<string>;
  /** `input.a.b` chains, for the type check against the input schema. */
  inputReferences: Array<{ fields: string[]; start: number; end: number }>;
  /** Patterns of `matches` written as string literals, which the validator can compile before the run. */
  regexLiterals: string[];
  /**
   * The CEL type the checker infers from the text alone, where input, steps, run, item and index are dyn: 'string',
   * 'list<int>', 'map<string, dyn>', 'dyn' (not known until run time)...; undefined when the checker cannot type it.
   */
  staticType(): string | undefined;
  /**
   * The value, as JSON (ints become numbers, maps objects, timestamps ISO text). Throws ExpressionEvaluationError, or
   * ExpressionLimitError past a limit of EXPRESSION_LIMITS or the meter.
   */
  evaluate(scope: Scope, options?: EvaluateOptions): unknown;
}

/** Options of one evaluation. */
export interface EvaluateOptions {
  /** A budget shared with other evaluations (a run's): this one stops where it runs out, and adds what it spent. */
  meter?: CostMeter;
}

/** What an expression can read: `input`, `steps` and `run`, and inside a map's sub-step `item` and `index`. */
export interface Scope {
  /** The run's input (null when it has none). */
  input: unknown;
  /** Each step's output by id (null for a step that was skipped or failed). */
  steps: Record<string, unknown>;
  /** The run itself: `id`, `workflowId`, `temporalRunId`, `startedAt`. */
  run: Record<string, unknown>;
  /** Inside a map's sub-step only. */
  item?: unknown;
  /** The item's index, from 0. `item` and `index` are defined only when `index` is set. */
  index?: number;
}

/** An expression that does not parse, or is too large or too deeply nested to: compileExpression throws it. */
export class ExpressionSyntaxError extends TrellisError {
  constructor(
    /** The expression text. */
    readonly source: string,
    /** What the parser said. */
    readonly reason: string,
    /** 0-based offset in source. */
    readonly offset: number,
  ) {
    super('EXPRESSION_SYNTAX', `expression ${JSON.stringify(source)} does not parse: ${reason} at column ${offset + 1}`);
  }
}

/**
 * An expression that parsed but failed as it ran: a missing field, a type mismatch, a condition that is not a bool.
 * `code` is EXPRESSION_EVALUATION, or EXPRESSION_LIMIT for an ExpressionLimitError.
 */
export class ExpressionEvaluationError extends TrellisError {
  declare readonly code: 'EXPRESSION_EVALUATION' | 'EXPRESSION_LIMIT';
  constructor(
    /** The expression text. */
    readonly source: string,
    /** Why it failed. */
    readonly reason: string,
    code: 'EXPRESSION_EVALUATION' | 'EXPRESSION_LIMIT' = 'EXPRESSION_EVALUATION',
  ) {
    super(code, `expression ${JSON.stringify(source)} failed: ${reason}`);
  }
}

/** An evaluation past a limit (EXPRESSION_LIMITS, or a shared meter): its reason says which. */
export class ExpressionLimitError extends ExpressionEvaluationError {
  declare readonly code: 'EXPRESSION_LIMIT';
  constructor(source: string, reason: string) {
    super(source, reason, 'EXPRESSION_LIMIT');
  }
}

const compiled = new Map<string, CompiledExpression>();
/** Distinct expressions kept parsed; past it the cache starts over, so a long-lived process does not grow. */
const MAX_COMPILED = 10_000;

/**
 * Parses a CEL expression (no `${...}` around it), once per distinct source: the cache is deterministic, keyed by the
 * text alone. Throws ExpressionSyntaxError when it does not parse.
 *
 * @example
 * ```ts
 * compileExpression('steps.order.total > 100').evaluate({ input: null, steps: { order: { total: 296 } }, run: {} }); // true
 * ```
 */
export function compileExpression(source: string): CompiledExpression {
  const hit = compiled.get(source);
  if (hit) return hit;
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  let program: ReturnType<Environment['parse']>;
  try {
    program = env.parse(source);
  } catch (e) {
    const err = e as { message?: string; range?: { start: number } };
    throw new ExpressionSyntaxError(source, firstLine(err.message ?? String(e)), err.range?.start ?? 0);
  }
  const found = analyze(program.ast as ASTNode);
  boundProgram(program.ast as ASTNode);
  const result: CompiledExpression = {
    source,
    ...found,
    staticType() {
      const checked = program.check();
      return checked.valid ? checked.type : undefined;
    },
    evaluate(scope, options = {}) {
      let value: unknown;
      try {
        // A Map, so a name such as `constructor` is an unknown variable, not Object.prototype's.
        const vars = new Map<string, unknown>().set('input', toCel(scope.input)).set('steps', toCel(scope.steps)).set('run', toCel(scope.run));
        if (scope.index !== undefined) vars.set('item', toCel(scope.item ?? null)).set('index', BigInt(scope.index));
        value = runBounded(() => program(vars), options.meter);
      } catch (e) {
        if (e instanceof LimitExceeded) throw new ExpressionLimitError(source, e.message);
        throw new ExpressionEvaluationError(source, firstLine((e as Error).message ?? String(e)));
      }
      try {
        return fromCel(value);
      } catch (e) {
        throw new ExpressionEvaluationError(source, (e as Error).message);
      }
    },
  };
  compiled.set(source, result);
  return result;
}

function firstLine(message: string): string {
  const line = message.split('\n')[0]!.trim();
  return line.charAt(0).toLowerCase() + line.slice(1);
}

/**
 * JSON value to CEL value: whole numbers become ints (bigint), others stay doubles, objects become Maps (cel-js
 * types a plain object by its `constructor` property, which data may have as a key). Objects are converted once
 * (remembered by identity): a run evaluates many expressions over the same step outputs.
 */
const converted = new WeakMap<object, unknown>();
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object') return value;
  const hit = converted.get(value);
  if (hit !== undefined) return hit;
  const out = Array.isArray(value) ? value.map(toCel) : new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  converted.set(value, out);
  return out;
}

/** CEL value to JSON value: ints to numbers, maps to objects, timestamps to ISO text, durations to "3600s". */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new Error(`the integer ${value} is too large for JSON`);
    return n;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Array.from(value);
  const proto = Object.getPrototypeOf(value);
  const entries = value instanceof Map ? value.entries() : proto === Object.prototype || proto === null ? Object.entries(value) : undefined;
  if (!entries) return String(value); // durations, types, uints
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) setOwn(out, String(k), fromCel(v));
  return out;
}
