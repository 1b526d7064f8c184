/**
 * Agent, map and call steps and budgets, on the real dev server, with the real openai client against the mock
 * LLM and real activities.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../src/spec/schema.js';
import tools, { effects } from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const specsDir = mkdtempSync(join(tmpdir(), 'trellis-specs-'));
writeFileSync(
  join(specsDir, 'order-total.json'),
  JSON.stringify({
    version: 1,
    name: 'order-total',
    input: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
    steps: [{ id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: '${input.orderId}' } }],
    output: { total: '${steps.order.total}' },
  }),
);
writeFileSync(
  join(specsDir, 'two-lookups.json'),
  JSON.stringify({
    version: 1,
    name: 'two-lookups',
    steps: [
      { id: 'first', kind: 'tool', tool: 'lookup_order', args: { orderId: 'T1' } },
      { id: 'second', kind: 'tool', tool: 'lookup_order', args: { orderId: '${steps.first.orderId}' } },
    ],
    output: { total: '${steps.second.total}' },
  }),
);
// Two saved specs that call each other: neither could ever finish.
for (const [name, other] of [
  ['loop-a', 'loop-b'],
  ['loop-b', 'loop-a'],
]) {
  writeFileSync(join(specsDir, `${name}.json`), JSON.stringify({ version: 1, name, steps: [{ id: 'again', kind: 'call', spec: other }] }));
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    tools,
    specsDir,
    rules: [
      // agent: first turn asks for a real tool and one it does not have; the second answers from the results
      {
        match: 'Agent: check order A1',
        lastMessage: 'Agent: check order A1',
        toolCalls: [
          { name: 'lookup_order', arguments: { orderId: 'A1' } },
          { name: 'launch_rockets', arguments: {} },
        ],
      },
      { match: 'Agent: check order A1', lastMessage: 'not one of your tools', reply: { total: 40, verdict: 'fine' } },
      // agent that never stops calling tools
      { match: 'Agent: loop forever', toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'L1' } }] },
      // agent that calls a gated tool, then reports what happened
      {
        match: 'Agent: refund big order',
        lastMessage: 'Agent: refund big order',
        toolCalls: [{ name: 'refund_order', arguments: { orderId: 'big1', amount: 250 } }],
      },
      { match: 'Agent: refund big order', lastMessage: '^denied', reply: 'not refunded: a person said no' },
      { match: 'Agent: refund big order', lastMessage: 'rf-big1', reply: 'refunded rf-big1' },
      // map llm items and a token-hungry prompt
      { match: 'Shout (\\w+)', reply: { loud: 'LOUD' } },
      { match: 'Spend tokens', reply: 'x'.repeat(400) },
    ],
  });
});
afterAll(() => h?.stop());
beforeEach(() => {
  effects.length = 0;
});

const spec = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ version: 1, name: 'steps-test', steps, ...extra }) as unknown as Spec;

describe('agent step', () => {
  it('runs each turn and each tool call as an activity, and sends a tool error back to the model', async () => {
    const { runId } = await h.client.start(
      spec([
        {
          id: 'check',
          kind: 'agent',
          prompt: 'Agent: check order A1',
          tools: ['lookup_order'],
          maxTurns: 3,
          output: { type: 'object', properties: { total: { type: 'number' }, verdict: { type: 'string' } }, required: ['total', 'verdict'] },
        },
      ]),
    );
    const result = await h.client.result(runId);
    expect(result.output).toEqual({ check: { total: 40, verdict: 'fine' } });
    expect(effects.map((e) => e.tool)).toEqual(['lookup_order']);
    expect(result.executed).toBe(2); // the step and its one tool call
    expect(result.steps.check!.tokens!.total).toBeGreaterThan(0);

    const turns = h.mock.requests.filter((r) => r.lastUserMessage === 'Agent: check order A1');
    expect(turns).toHaveLength(2);
    const second = turns[1]!.messages as Array<{ role: string; content: string }>;
    const results = second.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(results[0]).toContain('"total":40');
    expect(results[1]).toBe('error: "launch_rockets" is not one of your tools (lookup_order)');
    // the UI names every turn and tool call
    const history = await h.client.temporal.workflow.getHandle(runId).fetchHistory();
    const summaries = JSON.stringify(history.events);
    expect(summaries).toContain('callAgentTurn');
  });

  it('fails the step clearly past maxTurns, without running the last turn’s tool calls', async () => {
    const { runId } = await h.client.start(
      spec([{ id: 'looping', kind: 'agent', prompt: 'Agent: loop forever', tools: ['lookup_order'], maxTurns: 2 }]),
    );
    await expect(h.client.result(runId)).rejects.toThrow(
      'step "looping" failed: agent step "looping" did not finish within maxTurns (2): its last turn still asked for lookup_order',
    );
    expect(effects.map((e) => e.tool)).toEqual(['lookup_order']);
    expect(h.mock.requests.filter((r) => r.lastUserMessage === 'Agent: loop forever')).toHaveLength(2);
  });

  it('gates a tool whose policy wants a person, addressed by the agent step; a denial goes back to the model', async () => {
    const agent = { id: 'refunder', kind: 'agent', prompt: 'Agent: refund big order', tools: ['refund_order', 'lookup_order'], maxTurns: 3 };
    const { runId: approved } = await h.client.start(spec([agent]));
    await waitFor(
      () => h.client.status(approved),
      (v) => v.status === 'waiting',
    );
    const view = await h.client.status(approved);
    expect(view.pending).toEqual([
      expect.objectContaining({
        step: 'refunder',
        source: 'policy',
        title: expect.stringMatching(/^Allow refund_order\(orderId: .+\) in step refunder\?$/),
      }),
    ]);
    expect(effects).toHaveLength(0);
    await h.client.approve(approved, 'refunder', { by: 'alice' });
    expect((await h.client.result(approved)).output).toEqual({ refunder: 'refunded rf-big1' });
    expect(effects.map((e) => e.tool)).toEqual(['refund_order']);

    effects.length = 0;
    const { runId: denied } = await h.client.start(spec([agent]));
    await waitFor(
      () => h.client.status(denied),
      (v) => v.status === 'waiting',
    );
    await h.client.deny(denied, 'refunder', { by: 'bob', comment: 'too much' });
    expect((await h.client.result(denied)).output).toEqual({ refunder: 'not refunded: a person said no' });
    expect(effects).toHaveLength(0);
  });
});

describe('map step', () => {
  it('runs one tool call per item, bounded in parallel, outputs in order; a failed item is null with onItemError continue', async () => {
    const { runId } = await h.client.start(
      spec([
        {
          id: 'waits',
          kind: 'map',
          // later items finish first: the outputs must still come in the items' order
          items: '[400, 300, 200, 100]',
          maxParallel: 2,
          step: { kind: 'tool', tool: 'sleep', args: { ms: '${item}', label: 'w${index}' } },
        },
        {
          id: 'checks',
          kind: 'map',
          items: 'input.names',
          onItemError: 'continue',
          step: { kind: 'tool', tool: 'check_item', args: { name: '${item}' } },
        },
        {
          id: 'loud',
          kind: 'map',
          items: 'input.names',
          step: { kind: 'llm', prompt: 'Shout ${item}', output: { type: 'object', properties: { loud: { type: 'string' } } } },
        },
      ]),
      { input: { names: ['a', 'bad', 'c'] } },
    );
    const result = await h.client.result(runId);
    const out = result.output as { waits: Array<{ label: string; start: number; end: number }>; checks: unknown[]; loud: unknown[] };
    expect(out.waits.map((w) => w.label)).toEqual(['w0', 'w1', 'w2', 'w3']);
    expect(out.waits[1]!.end).toBeLessThan(out.waits[0]!.end);
    // never more than 2 at once: when each item starts, at most 2 are running (itself included)
    for (const w of out.waits) expect(out.waits.filter((o) => o.start <= w.start && o.end > w.start).length).toBeLessThanOrEqual(2);
    expect(out.checks).toEqual([{ name: 'a', ok: true }, null, { name: 'c', ok: true }]);
    expect(out.loud).toEqual([{ loud: 'LOUD' }, { loud: 'LOUD' }, { loud: 'LOUD' }]);
    expect(result.executed).toBe(3 + 4 + 3 + 3);
  });

  it("gates each item whose tool's policy wants a person, one at a time, addressed by the map step; a denied item is null", async () => {
    const { runId } = await h.client.start(
      spec([
        {
          id: 'refunds',
          kind: 'map',
          items: '[50, 250, 300]',
          step: { kind: 'tool', tool: 'refund_order', args: { orderId: 'M${index}', amount: '${item}' } },
        },
      ]),
    );
    const first = await waitFor(
      () => h.client.status(runId),
      (v) => v.pending.length === 1,
    );
    expect(first.pending[0]).toMatchObject({ step: 'refunds', source: 'policy' });
    expect(effects.map((e) => e.args)).toEqual([{ orderId: 'M0', amount: 50 }]);
    const firstAsked = JSON.parse(first.pending[0]!.details!) as { amount: number };
    await h.client.approve(runId, 'refunds', { by: 'ann' });
    const second = await waitFor(
      () => h.client.status(runId),
      (v) => v.pending.length === 1 && v.pending[0]!.details !== first.pending[0]!.details,
    );
    await h.client.deny(runId, 'refunds', { by: 'ann' });
    const secondAsked = JSON.parse(second.pending[0]!.details!) as { amount: number };
    const out = (await h.client.result(runId)).output as { refunds: Array<{ amount: number } | null> };
    // the approved item ran, the denied one is null, and nothing ran before its approval
    expect(out.refunds[0]).toEqual({ refundId: 'rf-M0', amount: 50 });
    const byAmount = (amount: number) => out.refunds[[50, 250, 300].indexOf(amount)];
    expect(byAmount(firstAsked.amount)).toMatchObject({ amount: firstAsked.amount });
    expect(byAmount(secondAsked.amount)).toBeNull();
    expect(effects.map((e) => (e.args as { amount: number }).amount).sort()).toEqual([50, firstAsked.amount].sort());
  });

  it('fails the step naming the item when an item fails', async () => {
    const { runId } = await h.client.start(
      spec([
        { id: 'checks', kind: 'map', items: 'input.names', maxParallel: 1, step: { kind: 'tool', tool: 'check_item', args: { name: '${item}' } } },
      ]),
      { input: { names: ['a', 'bad', 'c'] } },
    );
    await expect(h.client.result(runId)).rejects.toThrow('step "checks" failed: item 1: item bad is broken');
    // one lane: the item after the failure never started
    expect(effects.map((e) => (e.args as { name: string }).name)).toEqual(['a', 'bad']);
  });
});

describe('budgets', () => {
  it('stops the run at maxSteps, naming the budget, before the step over it runs', async () => {
    const { runId } = await h.client.start(
      spec([
        { id: 'one', kind: 'tool', tool: 'lookup_order', args: { orderId: 'B1' } },
        { id: 'two', kind: 'tool', tool: 'lookup_order', args: { orderId: '${steps.one.orderId}' } },
        { id: 'three', kind: 'tool', tool: 'lookup_order', args: { orderId: '${steps.two.orderId}' } },
      ]),
      { budget: { maxSteps: 2 } },
    );
    await expect(h.client.result(runId)).rejects.toThrow('budget exceeded: maxSteps 2: step "three" would be step execution 3 (in step "three")');
    expect(effects).toHaveLength(2);
    expect((await h.client.status(runId)).status).toBe('failed');
  });

  it('fails a map with more items than the run has step executions left before any item runs (maxSteps defaults to 5,000)', async () => {
    const { runId: small } = await h.client.start(
      spec([{ id: 'm', kind: 'map', items: 'input.ids', step: { kind: 'tool', tool: 'lookup_order', args: { orderId: '${item}' } } }]),
      { input: { ids: ['a', 'b', 'c', 'd'] }, budget: { maxSteps: 4 } },
    );
    await expect(h.client.result(small)).rejects.toThrow(
      'budget exceeded: maxSteps 4: map step "m" has 4 items and the run has 3 step executions left',
    );
    const { runId: big } = await h.client.start(
      spec([{ id: 'm', kind: 'map', items: 'input.ids', step: { kind: 'tool', tool: 'lookup_order', args: { orderId: '${item}' } } }]),
      { input: { ids: Array.from({ length: 5_000 }, (_, i) => `o${i}`) } },
    );
    await expect(h.client.result(big)).rejects.toThrow(
      'budget exceeded: maxSteps 5000: map step "m" has 5000 items and the run has 4999 step executions left',
    );
    expect(effects).toHaveLength(0);
  });

  it('stops the run once its LLM tokens pass maxTokens, even under onError: continue', async () => {
    const { runId } = await h.client.start(
      spec(
        [
          {
            id: 'spend',
            kind: 'map',
            items: '[1, 2, 3, 4, 5, 6]',
            maxParallel: 1,
            onError: 'continue',
            step: { kind: 'llm', prompt: 'Spend tokens ${item}' },
          },
        ],
        { budget: { maxTokens: 250 } },
      ),
    );
    await expect(h.client.result(runId)).rejects.toThrow(/budget exceeded: maxTokens 250: \d+ LLM tokens used after item \d of map step "spend"/);
    const calls = h.mock.requests.filter((r) => r.lastUserMessage.startsWith('Spend tokens')).length;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(6);
  });
});

describe('call step', () => {
  it("counts the called spec's step executions against the caller's budget, and stops both when it runs out", async () => {
    const { runId: fits } = await h.client.start(spec([{ id: 'sub', kind: 'call', spec: 'two-lookups' }]), { budget: { maxSteps: 3 } });
    expect((await h.client.result(fits)).executed).toBe(3);

    const { runId: over } = await h.client.start(spec([{ id: 'sub', kind: 'call', spec: 'two-lookups', onError: 'continue' }]), {
      budget: { maxSteps: 2 },
    });
    await expect(h.client.result(over)).rejects.toThrow(
      'budget exceeded: maxSteps 1: step "second" would be step execution 2 (in step "second") (in spec two-lookups, called by call step "sub")',
    );
    // the child ran its first lookup with the one execution left to it (2 lookups above, 1 here), and that counts in the caller
    expect(effects.filter((e) => (e.args as { orderId: string }).orderId === 'T1')).toHaveLength(3);
    expect((await h.client.status(over)).executed).toBe(2);

    const { runId: none } = await h.client.start(
      spec([
        { id: 'one', kind: 'tool', tool: 'lookup_order', args: { orderId: 'N1' } },
        { id: 'sub', kind: 'call', spec: 'two-lookups', after: ['one'] },
      ]),
      { budget: { maxSteps: 2 } },
    );
    await expect(h.client.result(none)).rejects.toThrow('budget exceeded: maxSteps 2: nothing left for call step "sub"');
  });

  it('runs a saved spec by name as a child run and returns its output', async () => {
    const { runId } = await h.client.start(spec([{ id: 'sub', kind: 'call', spec: 'order-total', input: { orderId: '${input.id}' } }]), {
      input: { id: 'C1' },
    });
    const result = await h.client.result(runId);
    expect(result.output).toEqual({ sub: { total: 40 } });
    expect(result.steps.sub!.run).toBe(`${runId}.sub`);
    expect(result.executed).toBe(2);
    expect((await h.client.status(`${runId}.sub`)).status).toBe('completed');
  });

  it('fails before any side effect when the saved spec does not exist, and checks the input', async () => {
    const { runId: missing } = await h.client.start(
      spec([
        { id: 'first', kind: 'tool', tool: 'lookup_order', args: { orderId: 'X' } },
        { id: 'sub', kind: 'call', spec: 'no-such-spec' },
      ]),
    );
    await expect(h.client.result(missing)).rejects.toThrow(/no saved spec "no-such-spec" in .* \(it has: loop-a, loop-b, order-total, two-lookups\)/);
    expect(effects).toHaveLength(0);

    const { runId: cycle } = await h.client.start(
      spec([
        { id: 'first', kind: 'tool', tool: 'lookup_order', args: { orderId: 'X' } },
        { id: 'sub', kind: 'call', spec: 'loop-a' },
      ]),
    );
    await expect(h.client.result(cycle)).rejects.toThrow(/saved specs in .* call each other in a cycle: loop-a -> loop-b -> loop-a/);
    expect(effects).toHaveLength(0);

    const { runId: badInput } = await h.client.start(spec([{ id: 'sub', kind: 'call', spec: 'order-total', input: { orderId: 7 } }]));
    // A literal input is checked by the worker against the called spec before the run starts; one with ${...} when the step runs.
    await expect(h.client.result(badInput)).rejects.toThrow('the run is invalid:\nspec.steps[0].input.orderId: expected string, got number 7');
  });
});
