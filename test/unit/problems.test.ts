/**
 * Problems as people read them: paths, the order of a report, and "did you mean".
 */
import { describe, expect, it } from 'vitest';
import { compareProblems, formatPath, formatProblem, problem, problemWhere, type Problem } from '../../src/spec/problems.js';
import { closest, didYouMean } from '../../src/spec/suggest.js';

describe('formatPath', () => {
  it('writes fields with dots and indexes with brackets; the empty path is (root)', () => {
    expect(formatPath([])).toBe('(root)');
    expect(formatPath(['steps'])).toBe('steps');
    expect(formatPath(['steps', 3, 'tool'])).toBe('steps[3].tool');
    expect(formatPath(['steps', 0, 'after', 2])).toBe('steps[0].after[2]');
    expect(formatPath(['input', 'properties', '$ref', '_x'])).toBe('input.properties.$ref._x');
    expect(formatPath([0, 'a'])).toBe('[0].a');
  });

  it('quotes keys that are not identifiers (dashes, spaces, quotes, digits, empty)', () => {
    expect(formatPath(['steps', 0, 'args', 'order-id'])).toBe('steps[0].args["order-id"]');
    expect(formatPath(['output', 'two words'])).toBe('output["two words"]');
    expect(formatPath(['output', 'say "hi"'])).toBe('output["say \\"hi\\""]');
    expect(formatPath(['output', '0'])).toBe('output["0"]');
    expect(formatPath(['output', ''])).toBe('output[""]');
    expect(formatPath(['my-key', 'x'])).toBe('["my-key"].x');
    expect(formatPath(['output', 'é'])).toBe('output["é"]');
  });
});

describe('formatProblem', () => {
  it('is "path: message", or "line L, column C: message" for a syntax error', () => {
    expect(formatProblem(problem('UNKNOWN_TOOL', ['steps', 3, 'tool'], 'unknown tool "refnud_order"'))).toBe(
      'steps[3].tool: unknown tool "refnud_order"',
    );
    expect(formatProblem(problem('TOO_LARGE', [], 'too big'))).toBe('(root): too big');
    const syntax: Problem = { ...problem('SYNTAX', [], 'invalid JSON: x'), location: { line: 2, column: 5 } };
    expect(formatProblem(syntax)).toBe('line 2, column 5: invalid JSON: x');
    expect(problemWhere(syntax)).toBe('line 2, column 5');
    expect(problemWhere({ ...syntax, path: ['steps'] })).toBe('steps');
  });
});

describe('compareProblems', () => {
  const p = (path: Problem['path'], message = 'm') => problem('SHAPE', path, message);
  const sorted = (list: Problem[]) => [...list].sort(compareProblems).map((x) => `${formatPath(x.path)} ${x.message}`);

  it('orders numbers numerically: steps[2] before steps[10]', () => {
    expect(compareProblems(p(['steps', 2]), p(['steps', 10]))).toBeLessThan(0);
    expect(compareProblems(p(['steps', 10]), p(['steps', 2]))).toBeGreaterThan(0);
    expect(sorted([p(['steps', 10, 'id']), p(['steps', 9, 'id']), p(['steps', 100]), p(['steps', 1, 'kind'])])).toEqual([
      'steps[1].kind m',
      'steps[9].id m',
      'steps[10].id m',
      'steps[100] m',
    ]);
  });

  it('orders a shorter path (a prefix) first, names alphabetically, then by message', () => {
    expect(
      sorted([
        p(['steps', 0, 'when'], 'b'),
        p(['steps', 0, 'when'], 'a'),
        p(['steps', 0]),
        p(['steps']),
        p([]),
        p(['output']),
        p(['input']),
        p(['steps', 0, 'id']),
      ]),
    ).toEqual(['(root) m', 'input m', 'output m', 'steps m', 'steps[0] m', 'steps[0].id m', 'steps[0].when a', 'steps[0].when b']);
  });

  it('orders syntax problems (no path) by line and column, as they appear in the text', () => {
    const at = (line: number, column: number, message: string): Problem => ({ ...problem('SYNTAX', [], message), location: { line, column } });
    expect(compareProblems(at(1, 4, 'invalid YAML: Unexpected scalar token'), at(1, 167, 'invalid YAML: Missing closing "quote'))).toBeLessThan(0);
    expect(compareProblems(at(3, 1, 'a'), at(2, 9, 'b'))).toBeGreaterThan(0);
  });

  it('puts an index before a name at the same place, and is 0 only for the same path and message', () => {
    expect(compareProblems(p(['a', 0]), p(['a', 'x']))).toBeLessThan(0);
    expect(compareProblems(p(['a', 'x']), p(['a', 0]))).toBeGreaterThan(0);
    expect(compareProblems(p(['a', 1], 'same'), p(['a', 1], 'same'))).toBe(0);
  });
});

describe('didYouMean', () => {
  it('suggests the closest name within a small distance', () => {
    expect(didYouMean('refnud_order', ['lookup_order', 'refund_order'])).toBe(' (did you mean "refund_order"?)');
    expect(didYouMean('tol', ['tool', 'llm', 'approval', 'wait'])).toBe(' (did you mean "tool"?)');
    expect(didYouMean('inptu', ['input', 'steps', 'run'])).toBe(' (did you mean "input"?)');
    expect(closest('stpes', ['steps', 'step', 'stops'])).toBe('steps'); // a transposition is one edit
    expect(closest('orderid', ['order', 'orderId'])).toBe('orderId');
  });

  it('suggests nothing when nothing is close, or there is nothing to choose from', () => {
    expect(didYouMean('banana', ['tool', 'llm', 'approval', 'wait'])).toBe('');
    expect(didYouMean('launch_rocket', ['lookup_order', 'refund_order'])).toBe('');
    expect(didYouMean('x', [])).toBe('');
  });

  it('allows more edits for longer names: max(2, length / 3)', () => {
    expect(closest('abcdefghi', ['abcdefXYZ'])).toBe('abcdefXYZ'); // 3 edits, 9 letters
    expect(closest('abcdefgh', ['abcdeXYZ'])).toBeUndefined(); // 3 edits, 8 letters
    expect(closest('ab', ['xy'])).toBe('xy'); // 2 edits always allowed (even when nothing is alike)
  });
});
