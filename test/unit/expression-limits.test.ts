/**
 * What keeps a CEL evaluation inside a workflow task: `matches` is RE2 (linear time), and an evaluation has a cost
 * limit and bounded string and list sizes (EXPRESSION_LIMITS), optionally within a budget several share.
 */
import { describe, expect, it } from 'vitest';
import {
  compileExpression,
  EXPRESSION_LIMITS,
  evaluateCondition,
  ExpressionEvaluationError,
  ExpressionLimitError,
  renderTemplate,
  renderValue,
  type CostMeter,
} from '../../src/spec/index.js';
import { decide, planRun } from '../../src/engine/schedule.js';
import { initialSteps, type RunInfo } from '../../src/engine/state.js';
import { scope } from './helpers.js';

const evaluate = (source: string, s = scope(), meter?: CostMeter) => compileExpression(source).evaluate(s, meter && { meter });

/** The error evaluating this throws (fails the test when it does not throw). */
function failure(run: () => unknown): ExpressionEvaluationError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionEvaluationError);
    return e as ExpressionEvaluationError;
  }
  throw new Error('expected an error');
}

function limitFailure(run: () => unknown): ExpressionLimitError {
  const e = failure(run);
  expect(e).toBeInstanceOf(ExpressionLimitError);
  expect(e.code).toBe('EXPRESSION_LIMIT');
  return e as ExpressionLimitError;
}

/** How long a call takes, in ms. */
function timed(run: () => unknown): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

const TEN = '[1,2,3,4,5,6,7,8,9,10]';
/** `levels` nested maps over ten items: 10^levels iterations of the innermost. */
const nestedMaps = (levels: number) => {
  let body = 'x0';
  for (let i = levels - 1; i >= 0; i--) body = `${TEN}.map(x${i}, ${body})`;
  return body;
};
const COST_MESSAGE = `exceeded the cost limit of ${EXPRESSION_LIMITS.maxCost.toLocaleString('en-US')} (comprehension iterations and operations); iterate over fewer items, or do the work in a tool`;

describe('matches is RE2', () => {
  it('a pattern that backtracks catastrophically in JS RegExp runs in linear time', () => {
    expect(evaluateCondition("'aaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('(a+)+$')", scope())).toBe(false);
    const s = scope({ input: { text: `${'a'.repeat(100_000)}!` } });
    const ms = timed(() => expect(evaluateCondition("input.text.matches('(a+)+$')", s)).toBe(false));
    expect(ms).toBeLessThan(1_000); // JS RegExp takes longer than the universe has left
  });

  it('matches finds the pattern anywhere (a partial match), in both forms; RE2 syntax, flags included', () => {
    expect(evaluate("'order o-123 ok'.matches('o-[0-9]+')")).toBe(true);
    expect(evaluate("'order o-123 ok'.matches('^o-[0-9]+')")).toBe(false);
    expect(evaluate("matches('order o-123 ok', 'o-\\\\d+')")).toBe(true);
    expect(evaluate("matches('abc', '^b')")).toBe(false);
    expect(evaluate("'Refund'.matches('(?i)^refund$')")).toBe(true);
    expect(evaluate("input.name.matches('^[A-Z][a-z]+$')", scope({ input: { name: 'Ana' } }))).toBe(true);
    expect(evaluate("[input.a, input.b].filter(s, s.matches('x')).size()", scope({ input: { a: 'xy', b: 'yy' } }))).toBe(1);
  });

  it('a pattern RE2 rejects is an evaluation error naming the pattern and the reason', () => {
    expect(failure(() => evaluate('input.s.matches(input.p)', scope({ input: { s: 'a', p: '(?=a)' } }))).message).toBe(
      'expression "input.s.matches(input.p)" failed: invalid regular expression "(?=a)" in matches: invalid or unsupported Perl syntax: `(?=`' +
        ' (Trellis uses RE2 syntax: no backreferences or lookaround)',
    );
    expect(failure(() => evaluate("matches(input.s, '(a)\\\\1')", scope({ input: { s: 'aa' } }))).reason).toBe(
      'invalid regular expression "(a)\\\\1" in matches: invalid escape sequence: `\\1` (Trellis uses RE2 syntax: no backreferences or lookaround)',
    );
    // The same pattern again: the cached reason.
    expect(failure(() => evaluate('input.s.matches(input.p)', scope({ input: { s: 'b', p: '(?=a)' } }))).reason).toMatch(
      /^invalid regular expression/,
    );
  });

  it('matches on something other than a string is no matching overload', () => {
    expect(failure(() => evaluate("input.n.matches('a')", scope({ input: { n: 1 } }))).reason).toBe(
      "found no matching overload for 'int.matches(string)'",
    );
  });
});

describe('the cost limit', () => {
  it('seven nested maps over ten items (10^7 iterations) fail fast with the cost limit', () => {
    let e: ExpressionLimitError | undefined;
    const ms = timed(() => (e = limitFailure(() => evaluate(nestedMaps(7)))));
    expect(e!.reason).toBe(COST_MESSAGE);
    expect(e!.source).toBe(nestedMaps(7));
    expect(ms).toBeLessThan(2_000);
    // Four levels (10,000 iterations) fit.
    expect(evaluate(`${nestedMaps(4)}.size()`) as number).toBe(10);
  });

  it('an expression over a large list reaches the limit; the same over a small one does not', () => {
    const items = (n: number) => scope({ input: { items: Array.from({ length: n }, (_, i) => ({ id: i, total: i })) } });
    const source = 'input.items.filter(i, i.total > 10 && i.id % 2 == 0).size()';
    expect(evaluate(source, items(1_000))).toBe(494);
    expect(limitFailure(() => evaluate(source, items(100_000))).reason).toBe(COST_MESSAGE);
  });

  it('a limit passed inside || or exists() is still the error: cel-js would take it for a value', () => {
    expect(limitFailure(() => evaluate(`${nestedMaps(6)}.size() > 0 || true`)).reason).toBe(COST_MESSAGE);
    expect(limitFailure(() => evaluate(`[1, 2].exists(x, x == 2 || ${nestedMaps(6)}.size() > 0)`)).reason).toBe(COST_MESSAGE);
  });

  it('comparing large structures costs their size: repeating it reaches the limit', () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => ({ id: i, name: `n${i}` }));
    const s = scope({ input: { a: rows, b: structuredClone(rows) } });
    expect(evaluate('input.a == input.b', s)).toBe(true);
    expect(limitFailure(() => evaluate(`${TEN}.map(x, ${TEN}.map(y, input.a == input.b))`, s)).reason).toBe(COST_MESSAGE);
    // Against null, nothing is walked.
    expect(evaluate(`${TEN}.map(x, ${TEN}.map(y, input.a != null)).size()`, s)).toBe(10);
  });

  it('long strings cost their length in the functions that scan them', () => {
    const s = scope({ input: { text: 'lorem ipsum '.repeat(100_000) } }); // 1.2M characters
    expect(evaluate("input.text.contains('zz')", s)).toBe(false);
    expect(limitFailure(() => evaluate(`${TEN}.map(x, input.text.size())`, s)).reason).toBe(COST_MESSAGE);
    expect(limitFailure(() => evaluate(`${TEN}.map(x, input.text.matches('z+$'))`, s)).reason).toBe(COST_MESSAGE);
  });

  it('counting is deterministic: the same evaluation spends the same', () => {
    const spent = () => {
      const meter = { spent: 0, limit: Infinity };
      evaluate("input.items.map(i, i.name + '!').join(', ')", scope({ input: { items: [{ name: 'a' }, { name: 'b' }] } }), meter);
      return meter.spent;
    };
    expect(spent()).toBeGreaterThan(0);
    expect(spent()).toBe(spent());
  });
});

describe('sizes', () => {
  const big = 'x'.repeat(1_000_000);

  it('join measures its output before building it', () => {
    const s = scope({ input: { big } });
    const e = limitFailure(() => evaluate(`${TEN}.map(x, input.big).join()`, s));
    expect(e.reason).toBe(`built a string longer than the limit of ${EXPRESSION_LIMITS.maxStringLength.toLocaleString('en-US')} characters`);
    expect(evaluate("['a', 'b'].join('-')")).toBe('a-b');
    expect(evaluate('[].join()')).toBe('');
    expect(failure(() => evaluate('input.xs.join()', scope({ input: { xs: ['a', 1] } }))).reason).toBe(
      'string.join(): list must contain only strings',
    );
  });

  it('string + string stops at the string length limit', () => {
    const e = limitFailure(() => evaluate('input.big + input.big + input.big', scope({ input: { big } })));
    expect(e.reason).toBe(`built a string longer than the limit of ${EXPRESSION_LIMITS.maxStringLength.toLocaleString('en-US')} characters`);
    expect(renderTemplate('${input.big + "!"}', scope({ input: { big } }))).toHaveLength(1_000_001);
  });

  it('a list past the list length limit is refused; data read from the run never is', () => {
    const list = Array.from({ length: EXPRESSION_LIMITS.maxListLength + 1 }, () => 0);
    expect((evaluate('input.list', scope({ input: { list } })) as unknown[]).length).toBe(list.length);
    // Parsing JSON text builds a list cheaply: the size bound stops it.
    const e = limitFailure(() => evaluate('bytes(input.json).json().size()', scope({ input: { json: JSON.stringify(list) } })));
    expect(e.reason).toBe(`built a list or map larger than the limit of ${EXPRESSION_LIMITS.maxListLength.toLocaleString('en-US')} entries`);
  });
});

describe('a shared meter', () => {
  it('adds what each evaluation spends and stops the one that runs out, with its own message', () => {
    const meter: CostMeter = { spent: 0, limit: 5_000 };
    evaluate(`${nestedMaps(2)}.size()`, scope(), meter);
    const first = meter.spent;
    expect(first).toBeGreaterThan(100);
    evaluate(`${nestedMaps(2)}.size()`, scope(), meter);
    expect(meter.spent).toBe(2 * first);
    const e = limitFailure(() => {
      for (;;) evaluate(`${nestedMaps(3)}.size()`, scope(), meter);
    });
    expect(e.reason).toBe('exceeded the shared cost budget of 5,000 (comprehension iterations and operations of all the expressions it covers)');
    // Once spent, every further evaluation stops at once.
    expect(limitFailure(() => evaluate('1 + 1', scope(), meter)).reason).toMatch(/^exceeded the shared cost budget/);
  });

  it('templates, conditions and the scheduler pass it on', () => {
    const meter: CostMeter = { spent: 0, limit: Infinity };
    renderValue({ a: '${1 + 2}', b: ['x ${input.n}'] }, scope({ input: { n: 1 } }), { meter });
    const afterTemplates = meter.spent;
    expect(afterTemplates).toBeGreaterThan(0);
    evaluateCondition('input.n > 0', scope({ input: { n: 1 } }), { meter });
    expect(meter.spent).toBeGreaterThan(afterTemplates);

    const plan = planRun({
      version: 1,
      name: 't',
      steps: [{ id: 'm', kind: 'map', items: nestedMaps(2), step: { kind: 'tool', tool: 't', args: { v: '${item}' } } }],
    });
    const small: CostMeter = { spent: 0, limit: 50 };
    const run: RunInfo = { id: 'r', workflowId: 'w', temporalRunId: 't', startedAt: '2026-01-01T00:00:00.000Z' };
    const [decision] = decide(plan, initialSteps(plan.order), null, run, Infinity, { meter: small });
    expect(decision).toMatchObject({ type: 'fail', step: 'm' });
    expect((decision as { reason: string }).reason).toMatch(/exceeded the shared cost budget of 50/);
  });
});
