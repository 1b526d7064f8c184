/**
 * CEL through compileExpression, renderTemplate, renderValue and evaluateCondition: numbers, types, templates,
 * null checks, references, and errors.
 */
import { describe, expect, it } from 'vitest';
import {
  compileExpression,
  evaluateCondition,
  ExpressionEvaluationError,
  ExpressionSyntaxError,
  parseTemplate,
  renderTemplate,
  renderValue,
  TemplateSyntaxError,
} from '../../src/spec/index.js';
import { scope } from './helpers.js';

const evaluate = (source: string, s = scope()) => compileExpression(source).evaluate(s);
const withTotal = (total: unknown) => scope({ steps: { a: { total } } });

/** What `run` throws; fails the test when it does not throw. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

/** The error an expression throws when evaluated (fails the test when it does not throw). */
function evaluationError(run: () => unknown): ExpressionEvaluationError {
  const e = thrown(run);
  expect(e).toBeInstanceOf(ExpressionEvaluationError);
  return e as ExpressionEvaluationError;
}

describe('numbers', () => {
  it('a whole JSON number is an int, any other a double, and they mix', () => {
    expect(evaluate('steps.a.total + 1', withTotal(40))).toBe(41);
    expect(evaluate('steps.a.total + 1', withTotal(40.5))).toBe(41.5);
    expect(evaluate('1 + steps.a.total', withTotal(40.5))).toBe(41.5);
    expect(evaluate('steps.a.total - 1', withTotal(40.5))).toBe(39.5);
    expect(evaluate('steps.a.total * 2', withTotal(40.5))).toBe(81);
    expect(evaluate('steps.a.total / 2', withTotal(41.0))).toBe(20); // 41.0 is 41 in JSON: an int
    expect(evaluate('steps.a.total > 40', withTotal(40.5))).toBe(true);
    expect(evaluate('steps.a.total == 40', withTotal(40))).toBe(true);
    expect(evaluate('steps.a.total == 40.0', withTotal(40))).toBe(true);
  });

  it('int division is int division; a double makes it exact', () => {
    expect(evaluate('7 / 2')).toBe(3);
    expect(evaluate('7.0 / 2')).toBe(3.5);
    expect(evaluate('double(input.x) / 2', scope({ input: { x: 7 } }))).toBe(3.5);
  });

  it('ints come out as JS numbers, also inside lists and maps', () => {
    const value = evaluate('[1, {"a": 2, "b": [input.x]}]', scope({ input: { x: 3 } }));
    expect(value).toEqual([1, { a: 2, b: [3] }]);
    expect(typeof (value as unknown[])[0]).toBe('number');
    expect(typeof evaluate('input.x', scope({ input: { x: 3 } }))).toBe('number');
  });

  it('an int too large for JSON, or an overflow, is a clear error', () => {
    const big = evaluationError(() => evaluate('9223372036854775807'));
    expect(big.message).toBe('expression "9223372036854775807" failed: the integer 9223372036854775807 is too large for JSON');
    expect(evaluationError(() => evaluate('9007199254740993')).reason).toBe('the integer 9007199254740993 is too large for JSON');
    expect(evaluationError(() => evaluate('9223372036854775807 + 1')).message).toBe(
      'expression "9223372036854775807 + 1" failed: integer overflow: 9223372036854775808',
    );
    // A number past 2^53 in the input enters as a double and stays a number.
    expect(evaluate('input.x + 1', scope({ input: { x: 2 ** 60 } }))).toBe(2 ** 60 + 1);
  });
});

describe('templates', () => {
  it('a string that is exactly ${expr} keeps the value type', () => {
    const s = scope({ input: { n: 3, obj: { x: 1, y: [1, 'a'] } } });
    expect(renderTemplate('${input.n}', s)).toBe(3);
    expect(renderTemplate('${input.n > 1}', s)).toBe(true);
    expect(renderTemplate('${input.obj}', s)).toEqual({ x: 1, y: [1, 'a'] });
    expect(renderTemplate('${[1, "a", true]}', s)).toEqual([1, 'a', true]);
    expect(renderTemplate('${null}', s)).toBeNull();
    expect(renderTemplate('${ input.n }', s)).toBe(3);
    expect(renderTemplate(' ${input.n}', s)).toBe(' 3'); // anything around it makes text
    expect(renderTemplate('no expressions', s)).toBe('no expressions');
  });

  it('mixed text stringifies: strings as they are, null as "null", everything else as JSON', () => {
    const s = scope({ input: { x: 1, name: 'Ana' } });
    expect(renderTemplate('a ${null} b ${input} c ${1.5} ${true} ${[1,2]} ${input.name}!', s)).toBe(
      'a null b {"x":1,"name":"Ana"} c 1.5 true [1,2] Ana!',
    );
  });

  it('$${ is a literal ${', () => {
    const s = scope({ input: { x: 1 } });
    expect(renderTemplate('$${input.x} and ${input.x}', s)).toBe('${input.x} and 1');
    expect(renderTemplate('$${input.x}', s)).toBe('${input.x}');
    expect(parseTemplate('cost $${x}')).toEqual(['cost ${x}']);
  });

  it('braces and quotes inside ${...} do not end it', () => {
    expect(renderTemplate('${ {"a": "}"}.a }', scope())).toBe('}');
    expect(renderTemplate("x${ {'k': {'n': 1}}.k.n }y", scope())).toBe('x1y');
    expect(renderTemplate('${"""a}b"""}', scope())).toBe('a}b');
    expect(renderTemplate('${"a\\"}"}', scope())).toBe('a"}');
    expect(parseTemplate('a ${x} b ${ {"}": 1} }')).toEqual(['a ', { expression: 'x', offset: 4 }, ' b ', { expression: ' {"}": 1} ', offset: 11 }]);
  });

  it('an unclosed or empty ${ is a TemplateSyntaxError with its offset', () => {
    expect(() => parseTemplate('hi ${input.x')).toThrow(TemplateSyntaxError);
    expect(() => parseTemplate('hi ${input.x')).toThrow('"${" is not closed by "}"');
    expect(() => parseTemplate('hi ${ }')).toThrow('"${}" holds no expression');
    const err = thrown(() => parseTemplate('ab ${"}')) as TemplateSyntaxError;
    expect(err).toBeInstanceOf(TemplateSyntaxError);
    expect(err.offset).toBe(3);
  });

  it('renderValue renders every string inside a JSON value', () => {
    const s = scope({ input: { x: 1 } });
    expect(renderValue({ a: '${input.x}', b: ['${input.x + 1}', 'n=${input.x}'], c: 5, d: null, e: true, f: { g: '${input}' } }, s)).toEqual({
      a: 1,
      b: [2, 'n=1'],
      c: 5,
      d: null,
      e: true,
      f: { g: { x: 1 } },
    });
  });
});

describe('null', () => {
  it('x != null is false for null and true for a map, a list, a string, a number', () => {
    const check = (value: unknown) => evaluateCondition('steps.a != null', scope({ steps: { a: value } }));
    expect(check(null)).toBe(false);
    expect(check({ x: 1 })).toBe(true);
    expect(check([1])).toBe(true);
    expect(check('x')).toBe(true);
    expect(check('')).toBe(true);
    expect(check(0)).toBe(true);
    expect(evaluateCondition('steps.a == null', scope({ steps: { a: null } }))).toBe(true);
  });
});

describe('references', () => {
  const refs = (source: string) => compileExpression(source).references.map((r) => [r.step, ...r.fields].join('.'));

  it('finds steps.X chains with the fields selected after them', () => {
    expect(refs('steps.a.b.c')).toEqual(['a.b.c']);
    expect(refs('steps["a"].b')).toEqual(['a.b']);
    expect(refs('steps.a["b"].c')).toEqual(['a.b.c']);
    expect(refs('steps.a.ok ? steps.b.x : steps.c.y')).toEqual(['a.ok', 'b.x', 'c.y']);
    expect(refs('[steps.a, {"k": steps.b.d}, -steps.c.n, !steps.e.ok]')).toEqual(['a', 'b.d', 'c.n', 'e.ok']);
    expect(compileExpression('steps.order.total + 1').references).toEqual([{ step: 'order', fields: ['total'], start: 0, end: 17 }]);
  });

  it('finds references inside macros, and has() does not require its last field', () => {
    expect(refs('input.items.all(i, i > steps.a.x)')).toEqual(['a.x']);
    expect(refs('steps.a.b.exists_one(z, z == steps.q.v)')).toEqual(['a.b', 'q.v']);
    expect(refs('steps.a.b.filter(x, x.y).size() > 0')).toEqual(['a.b']);
    expect(refs('has(steps.a.b)')).toEqual(['a']);
    expect(refs('has(steps.a.b.c)')).toEqual(['a.b']);
  });

  it('macro variables are not free variables', () => {
    const vars = (source: string) => [...compileExpression(source).variables].sort();
    expect(vars('input.items.all(i, i > 0)')).toEqual(['input']);
    expect(vars('input.xs.map(x, x + y)')).toEqual(['input', 'y']);
    expect(vars('input.xs.exists(x, x.all(y, y > x))')).toEqual(['input']);
    expect(vars('[1, 2].exists(steps, steps > 1)')).toEqual([]);
    expect(refs('[1, 2].exists(steps, steps.a > 1)')).toEqual([]);
    expect(vars('foo.bar + run.id')).toEqual(['foo', 'run']);
  });

  it('finds input chains', () => {
    expect(compileExpression('input.x.y == 1').inputReferences).toEqual([{ fields: ['x', 'y'], start: 0, end: 9 }]);
    expect(compileExpression('has(input.a)').inputReferences.map((r) => r.fields)).toEqual([[]]);
  });

  it('a list index or a computed key in a chain', () => {
    expect(refs('steps.a.items[0].sku')).toEqual(['a.items']);
    expect(compileExpression('input.xs[0] > 1').inputReferences.map((r) => r.fields)).toEqual([['xs']]);
    expect(refs('steps[input.k].x')).toEqual([]);
    expect([...compileExpression('steps[input.k].x').variables].sort()).toEqual(['input', 'steps']);
  });

  it('fields after an optional selection are not collected', () => {
    expect(refs('steps.a.b.?c')).toEqual(['a.b']);
    expect(refs('steps.a.?b.c')).toEqual(['a']);
    expect(refs('steps.a[?"b"].c')).toEqual(['a']);
  });
});

describe('errors', () => {
  it('an expression that does not parse is an ExpressionSyntaxError with its offset', () => {
    expect(() => compileExpression('a +')).toThrow(ExpressionSyntaxError);
    const err = thrown(() => compileExpression('input.x ==')) as ExpressionSyntaxError;
    expect(err).toBeInstanceOf(ExpressionSyntaxError);
    expect(err.message).toBe('expression "input.x ==" does not parse: unexpected token: EOF at column 11');
    expect(err.source).toBe('input.x ==');
    expect(err.offset).toBe(10);
  });

  it('an evaluation error is an ExpressionEvaluationError naming the expression', () => {
    const missing = evaluationError(() => evaluate('steps.zz.x', scope({ steps: { a: 1 } })));
    expect(missing.source).toBe('steps.zz.x');
    expect(missing.message).toBe('expression "steps.zz.x" failed: no such key: zz');
    expect(missing.code).toBe('EXPRESSION_EVALUATION');
    expect(evaluationError(() => evaluate('1 / 0')).message).toBe('expression "1 / 0" failed: division by zero');
    expect(evaluationError(() => renderTemplate('total: ${input.a.b}', scope({ input: {} }))).source).toBe('input.a.b');
  });

  it('`when` must give a bool', () => {
    expect(evaluateCondition('input.x > 0', scope({ input: { x: 1 } }))).toBe(true);
    expect(evaluateCondition('false', scope())).toBe(false);
    expect(evaluationError(() => evaluateCondition('1 + 1', scope())).message).toBe('expression "1 + 1" failed: gave 2, not true or false');
    expect(evaluationError(() => evaluateCondition('null', scope())).message).toBe('expression "null" failed: gave null, not true or false');
    expect(evaluationError(() => evaluateCondition('steps.a', scope({ steps: { a: { ok: true } } }))).message).toBe(
      'expression "steps.a" failed: gave {"ok":true}, not true or false',
    );
  });
});

describe('other CEL values leave as JSON', () => {
  it('timestamps, durations, bytes, uints and maps with int keys', () => {
    expect(evaluate('timestamp("2024-01-01T00:00:00Z")')).toBe('2024-01-01T00:00:00.000Z');
    expect(evaluate('duration("1h")')).toBe('3600s');
    expect(evaluate('b"ab"')).toEqual([97, 98]);
    expect(evaluate('{1: "a"}')).toEqual({ 1: 'a' });
  });

  it('compiles each distinct source once', () => {
    expect(compileExpression('input.cache_me')).toBe(compileExpression('input.cache_me'));
  });
});
