/** A spec's estimate before it runs: the examples' figures, and each rule that makes them. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { overBudget } from '../../src/estimate/budget.js';
import { ASSUMPTIONS, estimateLines, estimateSpec, schemaTokens, type EstimateOptions } from '../../src/estimate/index.js';
import { DEFAULT_PRICES } from '../../src/pricing/index.js';
import { validateSpec, validateSpecText, type Spec } from '../../src/spec/index.js';
import { loadCatalog } from '../../src/cli/io.js';
import { agent, approval, CATALOG, llm, map, spec, SPECS, tool, wait } from './helpers.js';

const catalog = (await loadCatalog(fileURLToPath(new URL('../../examples/tools.ts', import.meta.url))))!;
const OPTIONS: EstimateOptions = { prices: DEFAULT_PRICES, model: 'gpt-4o-mini', tools: catalog };

function example(file: string): Spec {
  const r = validateSpecText(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'), { filename: file, tools: catalog });
  if (!r.ok) throw new Error(`${file} is invalid`);
  return r.spec;
}

function valid(doc: unknown): Spec {
  const r = validateSpec(doc, { tools: CATALOG, specs: SPECS });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.spec;
}

const figures = (s: Spec, options: EstimateOptions = OPTIONS) => {
  const { modelCalls, toolCalls, inputTokens, outputTokens, cost, latencyMs } = estimateSpec(s, options);
  return { modelCalls, toolCalls, inputTokens, outputTokens, cost, latencyMs };
};

describe('the examples', () => {
  it('refund.json: one model call (two with a re-ask), the refund only when approved', () => {
    expect(figures(example('refund.json'))).toEqual({
      modelCalls: { min: 1, max: 2 },
      toolCalls: { min: 1, max: 2 },
      inputTokens: { min: 159, max: 318 },
      outputTokens: { min: 21, max: 42 },
      cost: { min: { usd: expect.closeTo(0.00003645, 12) }, max: { usd: expect.closeTo(0.0000729, 12) } },
      latencyMs: { min: 1720, max: 3440 },
    });
  });

  it('research.yaml: three searches side by side, then two llm steps side by side, then the summary', () => {
    expect(figures(example('research.yaml'))).toEqual({
      modelCalls: { min: 3, max: 6 },
      toolCalls: { min: 3, max: 3 },
      inputTokens: { min: 1127, max: 2254 },
      outputTokens: { min: 225, max: 450 },
      cost: { min: { usd: expect.closeTo(0.00030405, 12) }, max: { usd: expect.closeTo(0.0006081, 12) } },
      latencyMs: { min: 5560, max: 10620 },
    });
  });

  it('support-triage.json: a classification, a draft, and a review or an escalation', () => {
    expect(figures(example('support-triage.json'))).toEqual({
      modelCalls: { min: 2, max: 3 },
      toolCalls: { min: 2, max: 3 },
      inputTokens: { min: 983, max: 1432 },
      outputTokens: { min: 169, max: 188 },
      cost: { min: { usd: expect.closeTo(0.00024885, 12) }, max: { usd: expect.closeTo(0.0003276, 12) } },
      latencyMs: { min: 5980, max: 7660 },
    });
  });

  it("follows the templates' text: a longer prompt is more input tokens, by its length", () => {
    const before = example('refund.json');
    const after = structuredClone(before);
    const assess = after.steps.find((s) => s.id === 'assess')! as Extract<Spec['steps'][number], { kind: 'llm' }>;
    assess.prompt += ' '.repeat(400);
    expect(estimateSpec(after, OPTIONS).inputTokens.min - estimateSpec(before, OPTIONS).inputTokens.min).toBe(400 / ASSUMPTIONS.charsPerToken);
    assess.prompt += '    ${input.orderId}';
    expect(estimateSpec(after, OPTIONS).inputTokens.min - estimateSpec(before, OPTIONS).inputTokens.min).toBe(
      (404 + ASSUMPTIONS.charsPerInterpolation) / ASSUMPTIONS.charsPerToken,
    );
  });
});

describe('the rules', () => {
  it('counts a prompt as its text, each ${...} as assumed, and the reply as its output schema gives', () => {
    const e = estimateSpec(valid(spec([llm('a', { prompt: 'abcd'.repeat(25) + '${input}' })])), OPTIONS);
    expect(e.inputTokens).toEqual({ min: 25 + ASSUMPTIONS.charsPerInterpolation / 4, max: 25 + ASSUMPTIONS.charsPerInterpolation / 4 });
    expect(e.outputTokens).toEqual({ min: ASSUMPTIONS.textReplyTokens, max: ASSUMPTIONS.textReplyTokens });
    expect(schemaTokens({ type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer' } } })).toBe(2 + (2 + 1) + (1 + 2));
    expect(schemaTokens({ type: 'array', items: { type: 'string' }, maxItems: 1 })).toBe(2 + (ASSUMPTIONS.stringTokens + 1));
  });

  it('gives a step with `when` a least of nothing, and leaves approvals out of the latency', () => {
    const e = estimateSpec(valid(spec([tool('a'), llm('b', { when: 'steps.a.total > 1' }), approval('c')])), OPTIONS);
    expect(e.modelCalls).toEqual({ min: 0, max: 1 });
    expect(e.toolCalls).toEqual({ min: 1, max: 1 });
    expect(e.cost.min.usd).toBe(0);
    expect(e.steps[2]!.latencyMs).toEqual({ min: 0, max: 0 });
  });

  it('bounds an agent by maxTurns: 1 model call and no tool call at least, maxTurns and maxTurns - 1 at most', () => {
    const e = estimateSpec(valid(spec([agent('a', { maxTurns: 4 })])), OPTIONS);
    expect(e.modelCalls).toEqual({ min: 1, max: 4 });
    expect(e.toolCalls).toEqual({ min: 0, max: 3 });
    // Each turn sends the conversation again: more than 4 times the first turn's prompt.
    expect(e.inputTokens.max!).toBeGreaterThan(4 * e.inputTokens.min);
  });

  it("bounds a map by its list: a literal's length, the schema's minItems and maxItems, else unknown", () => {
    expect(estimateSpec(valid(spec([map('m')])), OPTIONS).toolCalls).toEqual({ min: 2, max: 2 });
    const over = (items: Record<string, unknown>) =>
      valid(
        spec([map('m', { items: 'input.ids' })], {
          input: { type: 'object', properties: { ids: { type: 'array', items: { type: 'string' }, ...items } }, required: ['ids'] },
        }),
      );
    expect(estimateSpec(over({ minItems: 1, maxItems: 10 }), OPTIONS).toolCalls).toEqual({ min: 1, max: 10 });
    const unbounded = estimateSpec(over({}), OPTIONS);
    expect(unbounded.toolCalls).toEqual({ min: 0, max: null });
    expect(unbounded.steps[0]!.notes.join()).toContain('the length of input.ids is not known');
    expect(estimateLines(unbounded)[1]).toBe('tool calls   0 or more');
  });

  it('runs a map in rounds of maxParallel on the critical path, and waits for wait steps', () => {
    const parallel = estimateSpec(valid(spec([map('m', { items: '[1, 2, 3, 4, 5]', maxParallel: 2 }), wait('w', { duration: '1m' })])), OPTIONS);
    expect(parallel.steps[0]!.latencyMs).toEqual({ min: 3 * ASSUMPTIONS.toolMs, max: 3 * ASSUMPTIONS.toolMs });
    // The two run side by side: the wait is the longer.
    expect(parallel.latencyMs).toEqual({ min: 60_000, max: 60_000 });
  });

  it('estimates a call step from the saved spec, and says when it cannot', () => {
    const s = valid(spec([{ id: 'c', kind: 'call', spec: 'child', input: { orderId: 'o-1' } }]));
    expect(estimateSpec(s, { ...OPTIONS, specs: SPECS }).toolCalls).toEqual({ min: 1, max: 1 });
    const blind = estimateSpec(s, OPTIONS);
    expect(blind.toolCalls).toEqual({ min: 0, max: null });
    expect(blind.cost.max).toBeNull();
    expect(blind.steps[0]!.notes.join()).toContain('spec child is not known here');
  });

  it('prices by the model each call names, and makes the cost unknown for a model without a price', () => {
    const e = estimateSpec(valid(spec([llm('a'), llm('b', { model: 'my-own-model' })])), OPTIONS);
    expect(e.cost.min.unknown).toEqual(['my-own-model']);
    expect(estimateLines(e)[3]).toBe('cost         unknown (no price for my-own-model)');
  });
});

describe('a plan over its budget', () => {
  const e = estimateSpec(valid(spec([llm('a', { prompt: 'x'.repeat(4000) })])), OPTIONS);

  it('is refused when even its least is over what is left, and let run otherwise', () => {
    expect(e.tokens.min).toBe(1000 + ASSUMPTIONS.textReplyTokens);
    expect(overBudget(e, { tokens: 1000, usd: undefined })).toBe(
      "the plan's estimate is at least 1,150 LLM tokens, and the run's maxTokens leaves 1,000",
    );
    expect(overBudget(e, { tokens: 1150, usd: undefined })).toBeUndefined();
    expect(overBudget(e, { tokens: undefined, usd: 0.0001 })).toMatch(
      /^the plan's estimate is at least \$0\.00024, and the run's maxCost leaves \$0\.0001$/,
    );
    expect(overBudget(e, { tokens: undefined, usd: 1 })).toBeUndefined();
  });

  it('is refused under maxCost when a model of it has no price', () => {
    const priceless = estimateSpec(valid(spec([llm('a', { model: 'my-own-model' })])), OPTIONS);
    expect(overBudget(priceless, { tokens: undefined, usd: 1 })).toContain('unknown (no price for my-own-model)');
    expect(overBudget(priceless, { tokens: 10_000, usd: undefined })).toBeUndefined();
  });
});
