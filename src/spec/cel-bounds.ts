/**
 * Bounds on CEL evaluation, which @marcbachmann/cel-js lacks (it limits parsing only). A pass over each parsed AST
 * replaces every node's evaluate with one that counts its cost and checks the size of what it builds, and gives a
 * few nodes implementations of our own: `matches` with RE2 (the library's uses JS RegExp and cannot be replaced
 * through registerFunction), a `join` that measures its output before building it, `==`/`!=`/`in` that pay for
 * the structures they compare, and map literals as JS Maps (the library's plain objects drop the keys
 * `constructor`, `__proto__` and `prototype`). Deterministic: counting only, no clocks.
 */
import { EvaluationError, type ASTNode } from '@marcbachmann/cel-js';
import { EXPRESSION_LIMITS } from './limits.js';
import { compileRegex } from './regex.js';
import { TrellisError } from '../errors.js';

/** A budget several evaluations share (a whole run's, say): each adds what it spent to `spent`. */
export interface CostMeter {
  /** What the evaluations so far cost, in operations; each evaluation adds to it. */
  spent: number;
  /** Where an evaluation stops with an ExpressionLimitError. */
  limit: number;
  /** How a message names it: "the run's expression budget". */
  name?: string;
}

/** An evaluation went past a limit; the message says which. */
export class LimitExceeded extends TrellisError {
  constructor(reason: string) {
    super('EXPRESSION_LIMIT', reason);
  }
}

/**
 * What costs what, in units of about one AST node's evaluation (40 to 100 ns, measured on Node 20): a function call
 * resolves its overload at run time (300 to 500 ns); comparing, copying or joining lists costs 20 to 60 ns an
 * element; RE2 compiles a pattern in about 20 µs plus 1.5 µs an instruction of its program, and matches at up to
 * 30 ns a character once its lazy DFA has the states the text needs (building them, bounded by the DFA's 8 MB
 * budget, took up to 100 ms for a DFA-hostile pattern, and is not counted: it happens mostly once per pattern in a worker).
 */
const WEIGHTS = { call: 4, unitsPerElement: 1, regexCompile: 200, regexPerInstruction: 15, regexCharsPerUnit: 2 } as const;

// ---- cel-js internals this pass relies on (lib/parser.js ASTNode, lib/operators.js) --------------------------

interface Evaluator {
  run(node: Node, ctx: unknown): unknown;
  debugType(value: unknown): { type: string };
}
type Evaluate = (ev: Evaluator, node: Node, ctx: unknown) => unknown;
interface Node {
  op: string;
  args: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- its shape depends on op
  /** What the node evaluates through: a macro's expansion (alternate), a macro object, or its operator. */
  readonly meta: { evaluate: Evaluate; alternate?: Node; macro?: { evaluate(ev: Evaluator, macro: unknown, ctx: unknown): unknown } };
  evaluate: Evaluate;
  /** Set by the type check on binary operators: the overload to call with both values. */
  handle?: (left: unknown, right: unknown, node: Node, ev: Evaluator) => unknown;
}

// ---- the evaluation in progress --------------------------------------------------------------------------------

interface Evaluation {
  spent: number;
  limit: number;
  shared: CostMeter | undefined;
  /** The first limit passed, kept: cel-js takes an error inside `||`, `&&` or exists() for a value. */
  exceeded?: LimitExceeded;
  /** Patterns `matches` has paid to compile in this evaluation: once each, cached or not, so the count is deterministic. */
  patterns?: Set<string>;
}

/** Evaluation is synchronous, so the one in progress is a module variable. */
let current: Evaluation | undefined;

/**
 * Runs one evaluation of a bounded program (see boundProgram) within EXPRESSION_LIMITS.maxCost and, when given,
 * what is left of a shared meter, to which it adds what it spent.
 */
export function runBounded<T>(run: () => T, shared?: CostMeter): T {
  const left = shared ? shared.limit - shared.spent : Infinity;
  const evaluation: Evaluation = { spent: 0, limit: Math.min(EXPRESSION_LIMITS.maxCost, left), shared };
  const previous = current;
  current = evaluation;
  try {
    const value = run();
    if (evaluation.exceeded) throw evaluation.exceeded;
    return value;
  } catch (e) {
    // A limit passed is the error, even when cel-js took it for a value, or another error followed.
    throw evaluation.exceeded ?? e;
  } finally {
    current = previous;
    if (shared) shared.spent += evaluation.spent;
  }
}

function charge(e: Evaluation, units: number): void {
  e.spent += units;
  if (e.spent > e.limit) throw overBudget(e);
}

function overBudget(e: Evaluation): LimitExceeded {
  const { shared } = e;
  return exceed(
    e,
    shared && e.limit < EXPRESSION_LIMITS.maxCost
      ? `exceeded ${shared.name ?? 'the shared cost budget'} of ${count(shared.limit)} (comprehension iterations and operations of all the expressions it covers)`
      : `exceeded the cost limit of ${count(EXPRESSION_LIMITS.maxCost)} (comprehension iterations and operations); ` +
          'iterate over fewer items, or do the work in a tool',
  );
}

function exceed(e: Evaluation, reason: string): LimitExceeded {
  return (e.exceeded ??= new LimitExceeded(reason));
}

const count = (n: number) => n.toLocaleString('en-US');

const stringTooLong = () => `built a string longer than the limit of ${count(EXPRESSION_LIMITS.maxStringLength)} characters`;

function checkSize(e: Evaluation, value: unknown): void {
  const { maxStringLength, maxListLength } = EXPRESSION_LIMITS;
  if (typeof value === 'string') {
    if (value.length > maxStringLength) throw exceed(e, stringTooLong());
  } else if (Array.isArray(value) ? value.length > maxListLength : value instanceof Map && value.size > maxListLength) {
    throw exceed(e, `built a list or map larger than the limit of ${count(maxListLength)} entries`);
  }
}

// ---- what reading a value costs --------------------------------------------------------------------------------

/** How a node's value is read by its parent: its characters (strings, bytes) at some rate, and its elements or not. */
interface Reads {
  charsPerUnit: number;
  elements: boolean;
}

/** Selected, passed on or iterated: what reads the value pays. */
const NOT_READ: Reads = { charsPerUnit: Infinity, elements: false };
/** A function's argument: native string operations (contains, startsWith, lowerAscii...) take about 1 ns a character. */
const AS_ARGUMENT: Reads = { charsPerUnit: 100, elements: false };
/** `+` copies a list; relational and unary operators read strings. */
const AS_OPERAND: Reads = { charsPerUnit: 100, elements: true };
/** Functions that read their string in JS: cel-js's size and split walk it at 5 to 13 ns a character. */
const FUNCTION_READS = new Map<string, Reads>([
  ['size', { charsPerUnit: 8, elements: false }],
  ['split', { charsPerUnit: 8, elements: false }],
]);

function textCost(value: unknown, charsPerUnit = AS_ARGUMENT.charsPerUnit): number {
  return typeof value === 'string' || value instanceof Uint8Array ? value.length / charsPerUnit : 0;
}

function readCost(value: unknown, reads: Reads): number {
  if (reads.elements && Array.isArray(value)) return value.length * WEIGHTS.unitsPerElement;
  if (reads.elements && value instanceof Map) return value.size * WEIGHTS.unitsPerElement;
  return textCost(value, reads.charsPerUnit);
}

/**
 * Deep costs of large values by identity: a run reads the same step outputs in many evaluations (lists are not
 * changed once built). A small value costs less to walk again than to remember.
 */
const deepCosts = new WeakMap<object, number>();
const REMEMBERED_COST = 64;

function deepCost(value: unknown): number {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return textCost(value);
  const hit = deepCosts.get(value);
  if (hit !== undefined) return hit;
  let cost = 0;
  const per = WEIGHTS.unitsPerElement;
  if (Array.isArray(value)) for (const v of value) cost += per + deepCost(v);
  else if (value instanceof Map) for (const [k, v] of value) cost += per + deepCost(k) + deepCost(v);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const [k, v] of Object.entries(value)) cost += per + textCost(k) + deepCost(v);
  if (cost >= REMEMBERED_COST) deepCosts.set(value, cost);
  return cost;
}

/** `==` and `!=` walk both sides as far as the smaller goes; `in` a list compares with each element. */
function comparisonCost(op: string, left: unknown, right: unknown): number {
  if (op === 'in') return Array.isArray(right) ? deepCost(right) : 0;
  if (left === right || typeof left !== typeof right) return 0;
  return Math.min(deepCost(left), deepCost(right));
}

// ---- the pass over the AST -------------------------------------------------------------------------------------

/** Operators and calls that build a new string, list or map: their results are size-checked. */
const BUILDS = new Set(['+', 'call', 'rcall', 'list', 'map', 'comprehension']);
const COMPARISONS = new Set(['==', '!=', 'in']);
/** Operators whose operands are selected, passed on or iterated, not read: what reads them pays. */
const PASS_ON = new Set(['.', '.?', '[]', '[?]', '?:', '&&', '||', 'list', 'map', 'accuPush', 'comprehension']);

/** Bounds a parsed program: call once, before its first evaluation, and evaluate it only inside runBounded. */
export function boundProgram(root: ASTNode): void {
  // The result itself is not read: what the expression built was paid for, and data it passes on was not made here.
  visit(root as unknown as Node, NOT_READ);
}

function visit(node: Node, reads: Reads): void {
  const { alternate, macro } = node.meta;
  // A macro evaluates through its expansion (a comprehension) or its own code (has, orValue, cel.bind).
  if (alternate) visit(alternate, NOT_READ);
  else if (macro) for (const child of callArguments(node)) visit(child, NOT_READ);
  else {
    const childReads = operandReads(node);
    for (const child of operands(node)) visit(child, childReads);
  }
  node.evaluate = boundedEvaluate(node, reads);
}

function callArguments(node: Node): Node[] {
  return node.op === 'rcall' ? [node.args[1], ...node.args[2]] : node.args[1];
}

function operands(node: Node): Node[] {
  const { op, args } = node;
  switch (op) {
    case 'value':
    case 'id':
    case 'accuValue':
    case 'accuInc':
      return [];
    case '.':
    case '.?':
      return [args[0]];
    case 'call':
    case 'rcall':
      return callArguments(node);
    case 'map':
      return (args as Array<[Node, Node]>).flat();
    case 'comprehension':
      return [args.iterable, args.init, args.step];
    case '!_':
    case '-_':
    case 'accuPush':
      return [args];
    default:
      return args; // the other operators, list, [] and [?]
  }
}

function operandReads(node: Node): Reads {
  if (node.op === 'call' || node.op === 'rcall') return FUNCTION_READS.get(node.args[0]) ?? AS_ARGUMENT;
  // Comparisons pay for what they compare themselves (comparisonCost), knowing both sides.
  return PASS_ON.has(node.op) || COMPARISONS.has(node.op) ? NOT_READ : AS_OPERAND;
}

function boundedEvaluate(node: Node, reads: Reads): Evaluate {
  const builds = BUILDS.has(node.op);
  const cost = (node.op === 'call' || node.op === 'rcall') && !node.meta.macro && !node.meta.alternate ? WEIGHTS.call : 1;
  let inner = ownEvaluate(node);
  return (ev, _node, ctx) => {
    const e = current!;
    if ((e.spent += cost) > e.limit) throw overBudget(e);
    const value = (inner ??= innerEvaluate(node))(ev, node, ctx);
    if (reads !== NOT_READ) {
      const read = readCost(value, reads);
      if (read > 0) charge(e, read);
    }
    if (builds) checkSize(e, value);
    return value;
  };
}

/**
 * What cel-js's own ASTNode.evaluate runs, resolved as it does at the first evaluation: the type check, which comes
 * first, may still set a node's meta.
 */
function innerEvaluate(node: Node): Evaluate {
  const { alternate, macro, evaluate } = node.meta;
  if (alternate) return (ev, _node, ctx) => alternate.evaluate(ev, alternate, ctx);
  if (macro) return (ev, _node, ctx) => macro.evaluate(ev, macro, ctx);
  return evaluate;
}

function ownEvaluate(node: Node): Evaluate | undefined {
  if (COMPARISONS.has(node.op)) return comparison;
  if (node.op === 'map' && node.args.length > 0) return mapLiteral;
  if (node.op !== 'rcall' || node.meta.macro || node.meta.alternate) return undefined;
  const [name, , args] = node.args as [string, Node, Node[]];
  if (name === 'matches' && args.length === 1) return matches;
  if (name === 'join' && args.length <= 1) return join;
  return undefined;
}

const comparison: Evaluate = (ev, node, ctx) => {
  const left = ev.run(node.args[0], ctx);
  const right = ev.run(node.args[1], ctx);
  const cost = comparisonCost(node.op, left, right);
  if (cost > 0) charge(current!, cost);
  return node.handle!(left, right, node, ev);
};

/** A JS Map keeps every key as it is, `constructor` and `__proto__` included (and 1 apart from "1", as CEL does). */
const mapLiteral: Evaluate = (ev, node, ctx) => {
  const map = new Map<unknown, unknown>();
  for (const [k, v] of node.args as Array<[Node, Node]>) map.set(ev.run(k, ctx), ev.run(v, ctx));
  return map;
};

const matches: Evaluate = (ev, node, ctx) => {
  const [, receiver, [patternNode]] = node.args as [string, Node, [Node]];
  const text = ev.run(receiver, ctx);
  const pattern = ev.run(patternNode, ctx);
  if (typeof text !== 'string' || typeof pattern !== 'string') throw noOverload(ev, node, text, [pattern]);
  return boundedMatches(text, pattern);
};

/** CEL `matches` with RE2, paid for: a pattern's compilation once per evaluation, and the text. */
export function boundedMatches(text: string, pattern: string): boolean {
  const e = current!;
  const first = !e.patterns?.has(pattern);
  if (first) {
    (e.patterns ??= new Set()).add(pattern);
    charge(e, WEIGHTS.regexCompile + pattern.length);
  }
  const re = compileRegex(pattern);
  if (first) charge(e, re.programSize() * WEIGHTS.regexPerInstruction);
  charge(e, text.length / WEIGHTS.regexCharsPerUnit);
  return re.test(text);
}

/** Measures the output while adding up its parts, so a join past the limit stops before it allocates anything. */
const join: Evaluate = (ev, node, ctx) => {
  const [, receiver, args] = node.args as [string, Node, Node[]];
  const list = ev.run(receiver, ctx);
  const separator = args.length > 0 ? ev.run(args[0]!, ctx) : '';
  if (!Array.isArray(list) || typeof separator !== 'string') throw noOverload(ev, node, list, args.length > 0 ? [separator] : []);
  const e = current!;
  let length = 0;
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'string') throw new EvaluationError('string.join(): list must contain only strings', node as unknown as ASTNode);
    length += item.length + (i > 0 ? separator.length : 0);
    if (length > EXPRESSION_LIMITS.maxStringLength) throw exceed(e, stringTooLong());
  }
  charge(e, list.length * WEIGHTS.unitsPerElement + length / AS_ARGUMENT.charsPerUnit);
  return list.join(separator);
};

function noOverload(ev: Evaluator, node: Node, receiver: unknown, args: unknown[]): EvaluationError {
  const type = (v: unknown) => ev.debugType(v).type;
  return new EvaluationError(
    `found no matching overload for '${type(receiver)}.${node.args[0]}(${args.map(type).join(', ')})'`,
    node as unknown as ASTNode,
  );
}
