import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../src/spec/schema.js';
import tools, { effects } from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import { refundSpec } from '../unit/helpers.js';

const refund = refundSpec() as Spec;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    tools,
    rules: [
      { match: 'arrived broken', reply: { damaged: true, reason: 'the customer says it arrived broken' } },
      { match: 'all fine', reply: { damaged: false, reason: 'nothing wrong' } },
      { match: 'Judge case fixable', reply: { verdict: 'maybe' }, times: 1 },
      { match: 'Your reply was not valid', reply: { verdict: 'yes' }, times: 1 },
      { match: 'Judge case hopeless|Your reply was not valid', reply: { verdict: 'perhaps' } },
    ],
  });
});
afterAll(() => h?.stop());
beforeEach(() => {
  effects.length = 0;
});

describe('the refund flow', () => {
  it('waits for a person, then refunds when approved', async () => {
    const { runId } = await h.client.start(refund, { input: { orderId: 'A1-broken' } });
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
    const { runId } = await h.client.start(refund, { input: { orderId: 'A2' } });
    const result = await h.client.result(runId);
    expect(result.output).toEqual({ refunded: false, reason: 'nothing wrong' });
    expect(result.steps.ok).toMatchObject({ status: 'skipped', reason: 'when is false: steps.assess.damaged' });
    expect(result.steps.refund).toMatchObject({ status: 'skipped' });
  });
});

const spec = (name: string, steps: Spec['steps'], output?: unknown): Spec => ({ version: 1, name, steps, ...(output !== undefined && { output }) });

describe('scheduling', () => {
  it('runs independent steps in parallel and joins them', async () => {
    const s = spec(
      'parallel',
      [
        { id: 'a', kind: 'tool', tool: 'sleep', args: { ms: 700, label: 'a' } },
        { id: 'b', kind: 'tool', tool: 'sleep', args: { ms: 700, label: 'b' } },
        { id: 'c', kind: 'tool', tool: 'sleep', args: { ms: 700, label: 'c' } },
        { id: 'join', kind: 'tool', tool: 'sleep', args: { ms: 1, label: '${steps.a.label + steps.b.label + steps.c.label}' } },
      ],
      '${steps.join.label}',
    );
    const result = await (await h.client.start(s)).result();
    expect(result.output).toBe('abc');
    const windows = ['a', 'b', 'c'].map((id) => result.steps[id]!.output as { start: number; end: number });
    // Every pair overlaps: each started before the others ended.
    for (const x of windows) for (const y of windows) expect(x.start).toBeLessThan(y.end);
    const join = result.steps.join!.output as { start: number };
    for (const w of windows) expect(join.start).toBeGreaterThanOrEqual(w.end);
  });

  it('propagates skips, and the output sees null for skipped steps', async () => {
    const s = spec(
      'skips',
      [
        { id: 'a', kind: 'tool', tool: 'lookup_order', args: { orderId: 'x' }, when: 'input == "go"' },
        { id: 'b', kind: 'tool', tool: 'lookup_order', args: { orderId: '${steps.a.orderId}' } },
        { id: 'c', kind: 'wait', duration: '10ms', after: ['b'] },
        { id: 'd', kind: 'tool', tool: 'lookup_order', args: { orderId: 'independent' } },
      ],
      { a: '${steps.a}', b: '${steps.b == null}', d: '${steps.d.orderId}' },
    );
    const result = await (await h.client.start(s, { input: 'stop' })).result();
    expect(result.steps.a).toMatchObject({ status: 'skipped', reason: 'when is false: input == "go"' });
    expect(result.steps.b).toMatchObject({ status: 'skipped', reason: 'step "a" was skipped' });
    expect(result.steps.c).toMatchObject({ status: 'skipped', reason: 'step "b" was skipped' });
    expect(result.output).toEqual({ a: null, b: true, d: 'independent' });
    expect(effects.map((e) => (e.args as { orderId: string }).orderId)).toEqual(['independent']);
  });

  it('fails the run naming the step and the cause; onError: continue goes on with null', async () => {
    const failing = spec('fails', [
      { id: 'ok', kind: 'tool', tool: 'lookup_order', args: { orderId: 'x' } },
      { id: 'bad', kind: 'tool', tool: 'flaky', args: { failures: 5 }, retry: { maxAttempts: 2, initialInterval: '50ms' } },
    ]);
    await expect((await h.client.start(failing)).result()).rejects.toThrow(/step "bad" failed: flaky failure/);

    const continuing = spec(
      'continues',
      [
        { id: 'bad', kind: 'tool', tool: 'flaky', args: { failures: 5 }, retry: { maxAttempts: 2, initialInterval: '50ms' }, onError: 'continue' },
        { id: 'after_bad', kind: 'tool', tool: 'lookup_order', args: { orderId: '${string(steps.bad)}' } },
        { id: 'other', kind: 'tool', tool: 'lookup_order', args: { orderId: 'y' } },
      ],
      { bad: '${steps.bad}', other: '${steps.other.orderId}' },
    );
    const result = await (await h.client.start(continuing)).result();
    expect(result.steps.bad).toMatchObject({ status: 'failed', output: null });
    expect(result.steps.bad!.reason).toMatch(/flaky failure/);
    expect(result.steps.after_bad).toMatchObject({ status: 'skipped', reason: 'step "bad" failed' });
    expect(result.output).toEqual({ bad: null, other: 'y' });
  });

  it('retries a step with one idempotency key', async () => {
    const s = spec(
      'retries',
      [{ id: 'f', kind: 'tool', tool: 'flaky', args: { failures: 2 }, retry: { maxAttempts: 5, initialInterval: '50ms', backoffCoefficient: 1 } }],
      '${steps.f}',
    );
    const { runId } = await h.client.start(s);
    const result = await h.client.result(runId);
    expect(result.output).toMatchObject({ attempt: 3 });
    expect(result.steps.f!.attempts).toBe(3);
    const keys = new Set(effects.filter((e) => e.tool === 'flaky').map((e) => e.idempotencyKey));
    expect(effects.filter((e) => e.tool === 'flaky').map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(keys.size).toBe(1);
    // run id / step id # a hash of the call (tool and args): no Temporal run id, so a run started again under the
    // same id (by a client that allows it) has the same keys
    expect([...keys][0]).toMatch(new RegExp(`^${runId}/f#[0-9a-z]{11}$`));
  });

  it('fails before any side effect when the worker lacks a tool', async () => {
    const s = spec('unknown-tool', [
      { id: 'a', kind: 'tool', tool: 'lookup_order', args: { orderId: 'x' } },
      { id: 'b', kind: 'tool', tool: 'no_such_tool', args: {} },
    ]);
    // The client has no catalog here; the worker checks the run with its own and refuses it before any step.
    await expect((await h.client.start(s)).result()).rejects.toMatchObject({
      code: 'RUN_INVALID',
      message: 'the run is invalid:\nspec.steps[1].tool: unknown tool "no_such_tool"',
      run: { status: 'failed', problems: [{ path: 'spec.steps[1].tool', code: 'UNKNOWN_TOOL', message: 'unknown tool "no_such_tool"' }] },
    });
    expect(effects).toEqual([]);
  });
});

describe('people', () => {
  it('a denial is an answer: the refund is skipped and the run completes', async () => {
    const { runId } = await h.client.start(refund, { input: { orderId: 'A3-broken' } });
    await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting',
    );
    const answer = await h.client.deny(runId, 'ok', { by: 'bob', comment: 'photos show no damage' });
    expect(answer).toMatchObject({ approved: false, by: 'bob', comment: 'photos show no damage' });
    const result = await h.client.result(runId);
    expect(result.steps.ok!.output).toMatchObject({ approved: false, by: 'bob' });
    expect(result.output).toEqual({ refunded: false, reason: 'the customer says it arrived broken' });
    expect(effects.some((e) => e.tool === 'refund_order')).toBe(false);
  });

  it('a timeout answers with onTimeout, or fails the run', async () => {
    const timeoutDeny = spec('timeout-deny', [{ id: 'ok', kind: 'approval', title: 'Go?', timeout: '1s' }], '${steps.ok}');
    const denied = await (await h.client.start(timeoutDeny)).result();
    expect(denied.output).toMatchObject({ approved: false, by: null, comment: 'no answer within 1s' });

    const timeoutApprove = spec(
      'timeout-approve',
      [{ id: 'ok', kind: 'approval', title: 'Go?', timeout: '1s', onTimeout: 'approve' }],
      '${steps.ok.approved}',
    );
    expect((await (await h.client.start(timeoutApprove)).result()).output).toBe(true);

    const timeoutFail = spec('timeout-fail', [{ id: 'ok', kind: 'approval', title: 'Go?', timeout: '1s', onTimeout: 'fail' }]);
    await expect((await h.client.start(timeoutFail)).result()).rejects.toThrow(/step "ok" failed: no answer within 1s/);
  });

  it('the update refuses unknown steps, people not in approvers, and a second answer', async () => {
    const s = spec(
      'approvers',
      [
        { id: 'ok', kind: 'approval', title: 'Ship it?', approvers: ['carol', 'dave'] },
        { id: 'then', kind: 'approval', title: 'And then?', after: ['ok'] },
      ],
      '${steps.ok.by}',
    );
    const { runId } = await h.client.start(s);
    await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting',
    );
    await expect(h.client.approve(runId, 'nope', { by: 'carol' })).rejects.toThrow('unknown step "nope"');
    await expect(h.client.approve(runId, 'ok', { by: 'mallory' })).rejects.toThrow('"mallory" may not answer step "ok" (approvers: carol, dave)');
    await expect(h.client.approve(runId, 'ok')).rejects.toMatchObject({
      refusal: 'anonymous',
      message: expect.stringMatching(/takes an answer only with who gives it/),
    });
    const view = await h.client.status(runId);
    expect(view.status).toBe('waiting');
    await h.client.approve(runId, 'ok', { by: 'dave' });
    await expect(h.client.approve(runId, 'ok', { by: 'carol' })).rejects.toThrow(/already decided \(approved by dave\)/);
    await h.client.approve(runId, 'then', { by: 'erin' });
    expect((await h.client.result(runId)).output).toBe('dave');
    await expect(h.client.approve(runId, 'then', { by: 'erin' })).rejects.toThrow(/has ended \(completed\)/);
  });

  it('the policy gate: a tool whose policy needs a person does not run before the approval', async () => {
    // Total 250 > 100: refund_order's own policy asks for a person, though the spec has no approval for it.
    const s = spec('gated', [
      { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'big-1' } },
      { id: 'refund', kind: 'tool', tool: 'refund_order', args: { orderId: 'big-1', amount: '${steps.order.total}' } },
    ]);
    const { runId } = await h.client.start(s);
    const waiting = await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting',
    );
    // What is asked, in full: the tool and its args.
    expect(waiting.pending).toEqual([
      {
        step: 'refund',
        source: 'policy',
        title: 'Allow refund_order(orderId: "big-1", amount: 250) in step refund?',
        details: '{"orderId":"big-1","amount":250}',
        args: { orderId: 'big-1', amount: 250 },
        askedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    expect(waiting.steps.refund!.status).toBe('waiting');
    await new Promise((r) => setTimeout(r, 300));
    expect(effects.some((e) => e.tool === 'refund_order')).toBe(false);
    await h.client.approve(runId, 'refund', { by: 'erin' });
    const result = await h.client.result(runId);
    expect(result.steps.refund).toMatchObject({ status: 'completed', output: { amount: 250 } });
    expect(effects.filter((e) => e.tool === 'refund_order')).toHaveLength(1);
  });

  it("a tool with approval 'required' is gated every time; a denial skips it", async () => {
    const s = spec('required', [{ id: 'wipe', kind: 'tool', tool: 'delete_everything', args: {} }], { wiped: '${steps.wipe != null}' });
    const { runId } = await h.client.start(s);
    await waitFor(
      () => h.client.status(runId),
      (v) => v.pending.some((p) => p.step === 'wipe'),
    );
    await h.client.deny(runId, 'wipe', { by: 'frank', comment: 'no' });
    const result = await h.client.result(runId);
    expect(result.steps.wipe).toMatchObject({ status: 'skipped', reason: 'delete_everything was not approved by frank: no' });
    expect(result.output).toEqual({ wiped: false });
    expect(effects).toEqual([]);
  });

  it('a run can be cancelled while it waits', async () => {
    const s = spec('cancel-me', [
      { id: 'ok', kind: 'approval', title: 'Wait forever?' },
      { id: 'after', kind: 'tool', tool: 'lookup_order', args: { orderId: 'x' }, after: ['ok'] },
    ]);
    const { runId } = await h.client.start(s);
    await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting',
    );
    await h.client.cancel(runId);
    await expect(h.client.result(runId)).rejects.toThrow();
    const view = await h.client.status(runId);
    expect(view.status).toBe('cancelled');
    expect(effects).toEqual([]);
  });
});

describe('llm steps', () => {
  const ask = (id: string) =>
    spec(
      `llm-${id}`,
      [
        {
          id: 'judge',
          kind: 'llm',
          prompt: `Judge case ${id}`,
          output: { type: 'object', properties: { verdict: { type: 'string', enum: ['yes', 'no'] } }, required: ['verdict'] },
        },
      ],
      '${steps.judge.verdict}',
    );

  it('re-asks once with the error when the reply is invalid, and accepts a fixed reply', async () => {
    const result = await (await h.client.start(ask('fixable'))).result();
    expect(result.output).toBe('yes');
    const calls = h.mock.requests.filter((r) => JSON.stringify(r.messages).includes('Judge case fixable'));
    expect(calls).toHaveLength(2);
    expect(calls[1]!.lastUserMessage).toMatch(/^Your reply was not valid: verdict: expected one of "yes", "no", got string "maybe"/);
    expect(result.steps.judge!.tokens!.total).toBeGreaterThan(0);
  });

  it('fails clearly when the re-ask is invalid too', async () => {
    await expect((await h.client.start(ask('hopeless'))).result()).rejects.toThrow(
      /step "judge" failed: the model's reply did not match the output schema after one re-ask: verdict: expected one of "yes", "no"/,
    );
  });
});

describe('inspection in the Temporal UI', () => {
  it('names the run, every activity and timer, and says what it waits for', async () => {
    const { runId } = await h.client.start(refund, { input: { orderId: 'A9-broken' } });
    await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting',
    );
    const handle = h.client.temporal.workflow.getHandle(runId);
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toMatch(
      new RegExp(
        '^\\*\\*Waiting for a person\\*\\*\n\n- \\*\\*ok\\*\\* \\(approval\\): Refund 40 on order A9-broken\\?\n  - deadline: \\d{4}-.+Z\n' +
          `  - answer: \`trellis approve ${runId} ok --by NAME\``,
      ),
    );
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe('refund-damaged-order: Refund an order when the customer reports damage.');
    expect(await description.staticDetails()).toContain('"orderId": "A9-broken"');

    await h.client.approve(runId, 'ok', { by: 'alice' });
    await h.client.result(runId);
    const history = await handle.fetchHistory();
    const { defaultPayloadConverter } = await import('@temporalio/common');
    const summaries = (history.events ?? [])
      .filter((e) => e.userMetadata?.summary)
      .map((e) => defaultPayloadConverter.fromPayload(e.userMetadata!.summary!) as string);
    // The run's own summary, then each activity and timer (a timer's summary shows on its start and its cancel):
    // the wait for a person is an activity of its own, with what is asked, and its deadline a timer.
    expect([...new Set(summaries)]).toEqual([
      'refund-damaged-order: Refund an order when the customer reports damage.',
      'tool lookup_order',
      'llm assess',
      'waiting for a person: ok: Refund 40 on order A9-broken?',
      'deadline of ok (then deny): Refund 40 on order A9-broken?',
      'tool refund_order',
    ]);
  });
});
