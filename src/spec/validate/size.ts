/** The size limits, checked before anything walks the document: steps, bytes as JSON, and depth. */
import { utf8Length } from '../utf8.js';
import type { Limits } from '../limits.js';
import { problem, type Problem } from '../problems.js';

export function checkSize(doc: unknown, limits: Limits, bytes: number | undefined): Problem | undefined {
  const steps = isObject(doc) && Array.isArray(doc.steps) ? doc.steps.length : 0;
  if (steps > limits.maxSteps) {
    return problem('TOO_LARGE', ['steps'], `${steps.toLocaleString('en-US')} steps; the limit is ${limits.maxSteps.toLocaleString('en-US')}`);
  }
  const measured = measure(doc, limits.maxBytes);
  if (measured === 'too deep') return problem('TOO_LARGE', [], `the spec is nested more than ${MAX_DEPTH} levels deep`);
  if (bytes !== undefined && bytes > limits.maxBytes) {
    return problem('TOO_LARGE', [], `the spec is ${bytes.toLocaleString('en-US')} bytes; the limit is ${limits.maxBytes.toLocaleString('en-US')}`);
  }
  if (bytes === undefined && measured > limits.maxBytes) {
    return problem('TOO_LARGE', [], `the spec is over ${limits.maxBytes.toLocaleString('en-US')} bytes as JSON (the limit)`);
  }
  return undefined;
}

const MAX_DEPTH = 200;

/**
 * The document's size as JSON text, counted without building the text and stopping once over the limit; and
 * its depth, checked before anything walks it recursively.
 */
function measure(doc: unknown, maxBytes: number): number | 'too deep' {
  let bytes = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value: doc, depth: 0 }];
  while (stack.length > 0 && bytes <= maxBytes) {
    const { value, depth } = stack.pop()!;
    if (typeof value === 'string') bytes += utf8Length(value) + 2;
    else if (value === null || typeof value !== 'object') bytes += String(value).length;
    else {
      if (depth >= MAX_DEPTH) return 'too deep';
      const entries = Array.isArray(value) ? value.map((v) => ['', v] as const) : Object.entries(value);
      bytes += 2 + Math.max(0, entries.length - 1); // brackets and commas
      for (const [k, v] of entries) {
        if (k) bytes += utf8Length(k) + 3;
        stack.push({ value: v, depth: depth + 1 });
      }
    }
  }
  return bytes;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
