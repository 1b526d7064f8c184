/**
 * Money on the real dev server: each step's and the run's cost from a price table (TRELLIS_PRICES), in the result,
 * the status view and the events; an unknown model's cost is unknown, never zero; maxCost stops a run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedRequest } from '../../src/llm/mock-server.js';
import type { Spec } from '../../src/spec/schema.js';
import tools, { effects } from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { formatUsd } from '../../src/pricing/cost.js';

// Dear prices, so that a few tokens make a visible cost: USD per million tokens.
const PRICES = { 'mock-model': { input: 1000, output: 3000 }, 'cheap-model': { input: 1, output: 2 } };
const priceFile = join(mkdtempSync(join(tmpdir(), 'trellis-prices-')), 'prices.json');
writeFileSync(priceFile, JSON.stringify({ date: '2026-12-02', source: 'this test', models: PRICES }));
// The worker reads TRELLIS_PRICES when it starts (each test file runs in a process of its own).
process.env.TRELLIS_PRICES = priceFile;

const specsDir = mkdtempSync(join(tmpdir(), 'trellis-specs-'));
writeFileSync(
  join(specsDir, 'summarise.json'),
  JSON.stringify({ version: 1, name: 'summarise', steps: [{ id: 'it', kind: 'llm', prompt: 'Summarise in a child' }] }),
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    tools,
    specsDir,
    rules: [
      // A plan that looks an order up, then asks a model about each of 40 items: dear at these prices.
      {
        match: '^Goal: Label forty things',
        reply: {
          version: 1,
          name: 'forty-labels',
          steps: [
            { id: 'order', kind: 'tool', tool: 'refund_order', args: { orderId: 'E1', amount: 1 } },
            {
              id: 'labels',
              kind: 'map',
              items: JSON.stringify(Array.from({ length: 40 }, (_, i) => i)),
              after: ['order'],
              step: { kind: 'llm', prompt: 'Label ${item}' },
            },
          ],
        },
      },
      { match: 'Summarise', reply: 'A short summary of the order.' },
      { match: 'Classify', reply: { label: 'refund' } },
      { match: '.', reply: 'ok' },
    ],
  });
});
afterAll(async () => h?.stop());

const spec = (steps: Spec['steps'], extra: Partial<Spec> = {}): Spec => ({ version: 1, name: 'cost-test', steps, ...extra });

/** What the mock billed for the requests whose last user message starts with `prefix`, priced as `model`. */
function billed(prefix: string, model: keyof typeof PRICES = 'mock-model'): number {
  const price = PRICES[model];
  return h.mock.requests
    .filter((r: LoggedRequest) => r.lastUserMessage.startsWith(prefix))
    .reduce((usd, r) => usd + (r.usage!.prompt * price.input + r.usage!.completion * price.output) / 1e6, 0);
}

describe('cost', () => {
  it("prices each model call: the steps' costs, the run's sum, the status view and the events", async () => {
    const { runId } = await h.client.start(
      spec([
        { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'C1' } },
        { id: 'summary', kind: 'llm', prompt: 'Summarise order ${steps.order.orderId}' },
        { id: 'labels', kind: 'map', items: '["a", "b", "c"]', step: { kind: 'llm', prompt: 'Classify ${item}', model: 'cheap-model' } },
      ]),
    );
    const result = await h.client.result(runId);
    const summary = billed('Summarise order C1');
    const labels = billed('Classify', 'cheap-model');
    expect(summary).toBeGreaterThan(0);
    expect(result.steps.order!.cost).toBeUndefined(); // no model call, no cost
    expect(result.steps.summary!.cost!.usd).toBeCloseTo(summary, 12);
    expect(result.steps.summary!.cost!.unknown).toBeUndefined();
    expect(result.steps.labels!.cost!.usd).toBeCloseTo(labels, 12);
    expect(result.cost!.usd).toBeCloseTo(summary + labels, 12);
    expect((await h.client.status(runId)).cost).toEqual(result.cost);

    const { events } = await h.client.events(runId);
    const done = events.find((e) => e.type === 'step.completed' && e.step === 'summary')!;
    expect(done.data).toMatchObject({ status: 'completed', tokens: result.steps.summary!.tokens, cost: result.steps.summary!.cost });
    // The run's so far: this step's, and whatever the map (running beside it) had spent.
    expect((done.data!.usage as { cost: { usd: number } }).cost.usd).toBeGreaterThanOrEqual(summary);
    const tool = events.find((e) => e.type === 'step.completed' && e.step === 'order')!;
    expect(tool.data).not.toHaveProperty('cost');
    const ended = events.find((e) => e.type === 'run.ended')!;
    expect(ended.data!.usage).toEqual({ tokens: result.tokens, cost: result.cost });

    const listed = (await h.client.list({ limit: 50 })).find((r) => r.runId === runId)!;
    expect(listed.usage).toEqual({ tokens: result.tokens, cost: result.cost });

    // The CLI shows the same figures: status, each step that called a model, and list.
    const env = { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: temporalNamespace(), TRELLIS_TASK_QUEUE: h.taskQueue };
    const status = await runCli(['status', runId], { env });
    expect(status.code, status.stderr).toBe(0);
    const total = (n: number) => n.toLocaleString('en-US');
    expect(status.stdout).toContain(
      `  used: ${total(result.tokens.total)} LLM tokens, ${formatUsd(result.cost!.usd)}, ${result.executed} step executions\n`,
    );
    expect(status.stdout).toMatch(
      new RegExp(`\\n  summary +completed .*\\[${total(result.steps.summary!.tokens!.total)} LLM tokens, \\${formatUsd(summary)}\\]\\n`),
    );
    expect(status.stdout).toMatch(/\n {2}order +completed [^[\n]*\n/); // no model call, no figures
    const list = await runCli(['list', '--limit', '20'], { env });
    expect(list.stdout.split('\n').find((l) => l.startsWith(runId))).toContain(`  ${formatUsd(result.cost!.usd)} `);
  });

  it('gives a model with no price an unknown cost, not zero', async () => {
    const { runId } = await h.client.start(spec([{ id: 'odd', kind: 'llm', prompt: 'Summarise this', model: 'no-such-price' }]));
    const result = await h.client.result(runId);
    expect(result.steps.odd!.tokens!.total).toBeGreaterThan(0);
    expect(result.steps.odd!.cost).toEqual({ usd: 0, unknown: ['no-such-price'] });
    expect(result.cost!.unknown).toEqual(['no-such-price']);
  });
});

describe('maxCost', () => {
  it('stops the run with BUDGET_EXCEEDED once its cost passes maxCost, even under onError: continue', async () => {
    const { runId } = await h.client.start(
      spec(
        [
          {
            id: 'spend',
            kind: 'map',
            items: '[1, 2, 3, 4, 5, 6]',
            maxParallel: 1,
            onError: 'continue',
            step: { kind: 'llm', prompt: 'Spend money ${item}' },
          },
        ],
        // One call costs about 0.7 cents at these prices: the budget lasts two or three.
        { budget: { maxCost: 0.015 } },
      ),
    );
    const failure = await h.client.result(runId).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect((failure as Error).message).toMatch(/budget exceeded: maxCost \$0\.015: \$0\.\d+ used after item \d of map step "spend"/);
    const calls = h.mock.requests.filter((r) => r.lastUserMessage.startsWith('Spend money')).length;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(6);
    const view = await h.client.status(runId);
    expect(view.cost!.usd).toBeGreaterThan(0.015);
  });

  it('refuses a model call with no price under maxCost before it is made, naming the model and TRELLIS_PRICES', async () => {
    const before = h.mock.requests.length;
    const { runId } = await h.client.start(
      spec([{ id: 'odd', kind: 'llm', prompt: 'Never asked', model: 'no-such-price' }], { budget: { maxCost: 5 } }),
    );
    const failure = await h.client.result(runId).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect((failure as Error).message).toContain('model "no-such-price" has no price');
    expect((failure as Error).message).toContain('TRELLIS_PRICES');
    expect(h.mock.requests.slice(before).filter((r) => r.lastUserMessage === 'Never asked')).toHaveLength(0);
  });

  it("adds a called spec's cost to the call step and the caller, within what is left of its maxCost", async () => {
    const { runId } = await h.client.start(
      spec([
        { id: 'first', kind: 'llm', prompt: 'Summarise first' },
        { id: 'sub', kind: 'call', spec: 'summarise', after: ['first'] },
      ]),
      { budget: { maxCost: 1 } },
    );
    const result = await h.client.result(runId);
    const first = billed('Summarise first');
    const child = billed('Summarise in a child');
    expect(child).toBeGreaterThan(0);
    expect(result.steps.sub!.cost!.usd).toBeCloseTo(child, 12);
    expect(result.cost!.usd).toBeCloseTo(first + child, 12);
    // The child ran under what was left: a cap under what it would spend stops it, and the caller with it.
    const { runId: over } = await h.client.start(spec([{ id: 'sub', kind: 'call', spec: 'summarise' }]), { budget: { maxCost: child / 2 } });
    await expect(h.client.result(over)).rejects.toThrow(/budget exceeded: maxCost \$[\d.]+: \$[\d.]+ used after call step "sub"/);
  });
});

describe('a goal run under a budget', () => {
  it("is refused before any step runs when its plan's estimate is over what the budget leaves", async () => {
    const { runId } = await h.client.startGoal('Label forty things', { budget: { maxCost: 15 } });
    const failure = await h.client.result(runId).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect((failure as Error).message).toMatch(/the plan's estimate is at least \$[\d.]+, and the run's maxCost leaves \$[\d.]+: nothing of it ran/);
    expect(effects.filter((e) => JSON.stringify(e).includes('E1'))).toEqual([]);
    expect(h.mock.requests.filter((r) => r.lastUserMessage.startsWith('Label'))).toEqual([]);
    const view = await h.client.status(runId);
    expect(view.steps.plan).toMatchObject({ status: 'failed' });
    expect(view.steps.plan!.cost!.usd).toBeGreaterThan(0); // the planning was paid for
    expect(Object.keys(view.steps)).toEqual(['plan']); // none of the plan's steps started
  });

  it('shows its estimate to the person who reviews the plan', async () => {
    const { runId } = await h.client.startGoal('Label forty things', { review: true });
    const view = await waitFor(
      () => h.client.status(runId),
      (v) => v.pending.length > 0,
    );
    const details = view.pending[0]!.details!;
    expect(details).toContain('Estimate (before it runs):');
    expect(details).toMatch(/model calls {2}40\n/);
    expect(details).toMatch(/tool calls {3}1\n/);
    expect(details).toMatch(/cost {9}\$[\d.]+/);
    await h.client.cancel(runId);
  });
});
