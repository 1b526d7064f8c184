import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../src/spec/schema.js';
import tools, { effects } from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const refund: Spec = {
  version: 1,
  name: 'refund-damaged-order',
  input: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
  steps: [
    { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: '${input.orderId}' } },
    {
      id: 'assess',
      kind: 'llm',
      prompt: 'Customer note: ${steps.order.note}\nIs the item damaged?',
      output: { type: 'object', properties: { damaged: { type: 'boolean' }, reason: { type: 'string' } }, required: ['damaged', 'reason'] },
    },
    {
      id: 'ok',
      kind: 'approval',
      when: 'steps.assess.damaged',
      title: 'Refund ${steps.order.total} on order ${input.orderId}?',
      timeout: '24h',
      onTimeout: 'deny',
    },
    {
      id: 'refund',
      kind: 'tool',
      when: 'steps.ok.approved',
      tool: 'refund_order',
      args: { orderId: '${input.orderId}', amount: '${steps.order.total}' },
    },
  ],
  output: { refunded: '${steps.refund != null}', reason: '${steps.assess.reason}' },
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    tools,
    rules: [
      { match: 'arrived broken', reply: { damaged: true, reason: 'the customer says it arrived broken' } },
      { match: 'all fine', reply: { damaged: false, reason: 'nothing wrong' } },
    ],
  });
});
afterAll(() => h?.stop());
beforeEach(() => {
  effects.length = 0;
});

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the refund flow', () => {
  it('waits for a person, then refunds when approved', async () => {
    const runId = await h.client.start(refund, { input: { orderId: 'A1-broken' } });
    const waiting = await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting',
    );
    expect(waiting.pending).toEqual([expect.objectContaining({ step: 'ok', title: 'Refund 40 on order A1-broken?', source: 'approval' })]);
    expect(waiting.steps.order).toMatchObject({ status: 'completed', output: { total: 40 } });
    expect(effects.map((e) => e.tool)).toEqual(['lookup_order']);

    const answer = await h.client.approve(runId, 'ok', { by: 'alice', comment: 'fine' });
    expect(answer).toMatchObject({ approved: true, by: 'alice', comment: 'fine' });
    const result = await h.client.result(runId);
    expect(result.output).toEqual({ refunded: true, reason: 'the customer says it arrived broken' });
    expect(result.tokens.total).toBeGreaterThan(0);
    expect(effects.map((e) => e.tool)).toEqual(['lookup_order', 'refund_order']);
  });

  it('skips the approval and the refund when nothing is damaged', async () => {
    const runId = await h.client.start(refund, { input: { orderId: 'A2' } });
    const result = await h.client.result(runId);
    expect(result.output).toEqual({ refunded: false, reason: 'nothing wrong' });
    expect(result.steps.ok).toMatchObject({ status: 'skipped', reason: 'when is false: steps.assess.damaged' });
    expect(result.steps.refund).toMatchObject({ status: 'skipped' });
  });
});
