/**
 * The deep partial match of an eval's expected output: an object matches when each of its keys matches (other
 * keys of the actual value are ignored); arrays must have the same length and equal items; scalars must be
 * equal. Differences read as "output.refunded: expected true, got false". Pure.
 */
import { formatPath, type PathSegment } from '../spec/problems.js';

/** Every difference, in document order; empty when `actual` contains `expected`. `path` names the root in the messages. */
export function partialMatch(expected: unknown, actual: unknown, path: PathSegment[] = ['output']): string[] {
  const out: string[] = [];
  walk(expected, actual, path, false, out);
  return out;
}

function walk(expected: unknown, actual: unknown, path: PathSegment[], exact: boolean, out: string[]): void {
  if (isObject(expected)) {
    if (!isObject(actual)) {
      out.push(`${formatPath(path)}: expected an object, got ${show(actual)}`);
      return;
    }
    for (const [key, value] of Object.entries(expected)) {
      if (!Object.hasOwn(actual, key)) out.push(`${formatPath([...path, key])}: missing, expected ${show(value)}`);
      else walk(value, actual[key], [...path, key], exact, out);
    }
    if (exact)
      for (const key of Object.keys(actual))
        if (!Object.hasOwn(expected, key)) out.push(`${formatPath([...path, key])}: not expected, got ${show(actual[key])}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      out.push(`${formatPath(path)}: expected a list, got ${show(actual)}`);
      return;
    }
    if (actual.length !== expected.length) {
      out.push(`${formatPath(path)}: expected ${expected.length} item${expected.length === 1 ? '' : 's'}, got ${actual.length}: ${show(actual)}`);
      return;
    }
    // Items of a list are compared whole: an object inside a list must have exactly the expected keys.
    expected.forEach((item, i) => walk(item, actual[i], [...path, i], true, out));
    return;
  }
  if (!Object.is(expected, actual) && !(expected === 0 && actual === 0))
    out.push(`${formatPath(path)}: expected ${show(expected)}, got ${show(actual)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as JSON, shortened: enough to see the difference, never a wall of text. */
export function show(value: unknown, max = 60): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
