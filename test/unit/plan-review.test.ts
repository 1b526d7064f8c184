/** Goal runs, the pure parts: how a plan reads for review, which steps a new plan keeps, and content hashes. */
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../src/engine/canonical.js';
import { carriedOver, planSummary, type DoneStep } from '../../src/engine/plan-review.js';
import { holdsSlot } from '../../src/engine/schedule.js';
import type { Spec, Step } from '../../src/spec/schema.js';

const spec = (steps: Step[]): Spec => ({ version: 1, name: 'p', description: 'a plan', steps });
const lookup = (id: string, orderId: string): Step => ({ id, kind: 'tool', tool: 'lookup_order', args: { orderId } });
const summary: Step = { id: 'summary', kind: 'llm', prompt: 'Summarize ${steps.order}' };
const done = (step: Step, output: unknown): DoneStep => ({ step, output });

describe('carriedOver', () => {
  it('keeps a step with the same id and definition, whatever the key order', () => {
    const before = { order: done({ kind: 'tool', args: { orderId: 'A' }, tool: 'lookup_order', id: 'order' } as Step, { total: 1 }) };
    expect(carriedOver(spec([lookup('order', 'A')]), before)).toEqual({ order: { total: 1 } });
  });

  it('does not keep a changed step, nor an unchanged one that depends on a step that changed', () => {
    const before = { order: done(lookup('order', 'A'), { id: 'A' }), summary: done(summary, 'summary of order A') };
    // the new plan looks up B: the summary of A would be stale
    expect(carriedOver(spec([lookup('order', 'B'), summary]), before)).toEqual({});
    // with the lookup unchanged, both are kept
    expect(carriedOver(spec([lookup('order', 'A'), summary]), before)).toEqual({ order: { id: 'A' }, summary: 'summary of order A' });
  });

  it('does not keep a step whose dependency did not run before', () => {
    const before = { summary: done(summary, 'old') };
    expect(carriedOver(spec([lookup('order', 'A'), summary]), before)).toEqual({});
  });
});

describe('planSummary', () => {
  it('reads one line per step', () => {
    expect(planSummary(spec([lookup('order', 'A'), { ...summary, when: 'steps.order != null' }]))).toBe(
      'p: a plan\n- order (tool): lookup_order {"orderId":"A"}\n- summary (llm): Summarize ${steps.order} when steps.order != null',
    );
  });
});

describe('content hashes', () => {
  it('ignore key order and undefined fields, and differ for different values', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
    expect(contentHash({ tool: 't', args: { a: 1, b: 2 } })).toBe(contentHash({ args: { b: 2, a: 1 }, tool: 't' }));
    expect(contentHash({ tool: 't', args: { a: 1 } })).not.toBe(contentHash({ tool: 't', args: { a: 2 } }));
    expect(contentHash({})).toMatch(/^[0-9a-z]{11}$/);
  });
});

describe('holdsSlot', () => {
  it('counts every kind that calls activities or starts a child run; people and timers wait for free', () => {
    expect(['tool', 'llm', 'agent', 'map', 'call', 'approval', 'wait'].filter((k) => holdsSlot(k as Step['kind']))).toEqual([
      'tool',
      'llm',
      'agent',
      'map',
      'call',
    ]);
  });
});
