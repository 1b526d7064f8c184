/**
 * Goal runs: plan in an activity, review, replan on a denial's comment without repeating side effects, all in one
 * durable run on the real dev server, with the real openai client against the mock LLM.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import tools, { effects } from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const lookup = (id: string) => ({ id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: id } });
const plan = (name: string, steps: unknown[], output: unknown) => ({ version: 1, name, steps, output });

const refundWithApproval = plan(
  'refund-g4',
  [
    lookup('G4'),
    { id: 'ok', kind: 'approval', title: 'Refund ${steps.order.total}?' },
    { id: 'refund', kind: 'tool', tool: 'refund_order', when: 'steps.ok.approved', args: { orderId: 'G4', amount: '${steps.order.total}' } },
  ],
  { refunded: '${steps.refund != null}' },
);
const halfRefund = plan(
  'half-refund-g4',
  [lookup('G4'), { id: 'refund', kind: 'tool', tool: 'refund_order', args: { orderId: 'G4', amount: '${steps.order.total / 2}' } }],
  { amount: '${steps.refund.amount}' },
);

// A slow check in flight, an approval and a big (gated) refund waiting for people, all at once.
const slowCheck = { id: 'slow', kind: 'tool', tool: 'sleep', args: { ms: 1500, label: 'slow' } };
const tidyG5 = plan(
  'tidy-g5-a',
  [
    slowCheck,
    { id: 'ok', kind: 'approval', title: 'Tidy up G5?' },
    { id: 'big', kind: 'tool', tool: 'refund_order', args: { orderId: 'G5', amount: 500 } },
  ],
  null,
);

// A saved spec that waits for a person of its own: a call step of it is a child run waiting when a replan comes.
const specsDir = mkdtempSync(join(tmpdir(), 'trellis-goal-specs-'));
writeFileSync(
  join(specsDir, 'needs-ok.json'),
  JSON.stringify({ version: 1, name: 'needs-ok', steps: [{ id: 'ok', kind: 'approval', title: 'Go on?' }] }),
);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    tools,
    specsDir,
    rules: [
      { match: '^Goal: Look up order G1', reply: plan('lookup-g1', [lookup('G1')], { total: '${steps.order.total}' }) },
      // the first plan for G2 forgets the lookup; the person's comment asks for it
      { match: '^Goal: Check order G2.*use the lookup', reply: plan('check-g2-b', [lookup('G2')], { note: '${steps.order.note}' }) },
      { match: '^Goal: Check order G2', reply: plan('check-g2-a', [{ id: 'wait', kind: 'wait', duration: '1s' }], { note: 'none' }) },
      { match: '^Goal: Refund order G4.*refund only half', reply: halfRefund },
      { match: '^Goal: Refund order G4', reply: refundWithApproval },
      { match: '^Goal: Hopeless', reply: { version: 1, name: 'bad', steps: [{ id: 'x', kind: 'tool', tool: 'launch_rockets' }] } },
      { match: '^Goal: Reserved', reply: plan('reserved', [{ ...lookup('R1'), id: 'plan' }], null) },
      { match: '^Goal: Tidy up order G5.*nothing big', reply: plan('tidy-g5-b', [slowCheck, lookup('G5')], { note: '${steps.order.note}' }) },
      { match: '^Goal: Tidy up order G5', reply: tidyG5 },
      { match: '^Goal: Unauthorized', status: 401, reply: 'bad key' },
      { match: '^Goal: Check order G6.*lookup only', reply: plan('check-g6-b', [lookup('G6')], { total: '${steps.order.total}' }) },
      {
        match: '^Goal: Check order G6',
        reply: plan(
          'check-g6-a',
          [
            { id: 'sub', kind: 'call', spec: 'needs-ok' },
            { id: 'ask', kind: 'approval', title: 'Check G6?' },
          ],
          null,
        ),
      },
    ],
  });
});
afterAll(() => h?.stop());
beforeEach(() => {
  effects.length = 0;
});

describe('goal runs', () => {
  it('plans and runs in one durable run; the status shows the goal and the plan', async () => {
    const { runId } = await h.client.startGoal('Look up order G1');
    const result = await h.client.result(runId);
    expect(result.output).toEqual({ total: 40 });
    expect(result).toMatchObject({ plans: 1, spec: { name: 'lookup-g1' } });
    const view = await h.client.status(runId);
    expect(view).toMatchObject({ status: 'completed', goal: 'Look up order G1', spec: { name: 'lookup-g1' } });
    expect(view.steps.plan).toMatchObject({ status: 'completed', attempts: 1 });
    expect(view.tokens.total).toBeGreaterThan(0);
    // the planner got the worker's catalog and the spec's JSON Schema as its structured output
    const request = h.mock.requests.find((r) => r.lastUserMessage.startsWith('Goal: Look up order G1'))!;
    expect(JSON.stringify(request.messages)).toContain('lookup_order');
    expect(request.responseFormat).toMatchObject({ type: 'json_schema' });
  });

  it('with review, waits for a person to approve the plan before any step runs', async () => {
    const { runId } = await h.client.startGoal('Look up order G1 again', { review: true, id: `review-${Date.now()}` });
    const waiting = await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting',
    );
    expect(waiting.pending).toEqual([expect.objectContaining({ step: 'plan', source: 'plan', title: 'Run this plan for: Look up order G1 again' })]);
    expect(waiting.pending[0]!.details).toContain('- order (tool): lookup_order {"orderId":"G1"}');
    expect(waiting.spec?.name).toBe('lookup-g1');
    expect(effects).toHaveLength(0);
    await h.client.approve(runId, 'plan', { by: 'alice' });
    expect((await h.client.result(runId)).output).toEqual({ total: 40 });
    expect((await h.client.status(runId)).steps.plan!.output).toMatchObject({ approved: true, by: 'alice' });
  });

  it('replans when the plan is denied with a comment, and runs only the approved plan', async () => {
    const { runId } = await h.client.startGoal('Check order G2', { review: true });
    await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting' && v.spec?.name === 'check-g2-a',
    );
    await h.client.deny(runId, 'plan', { by: 'alice', comment: 'use the lookup tool' });
    const second = await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting' && v.spec?.name === 'check-g2-b',
    );
    expect(second.pending.map((p) => p.step)).toEqual(['plan']);
    const replan = h.mock.requests.filter((r) => r.lastUserMessage.startsWith('Goal: Check order G2'))[1]!;
    expect(replan.lastUserMessage).toContain('A person asked for a different plan: "use the lookup tool"');
    expect(replan.lastUserMessage).toContain('check-g2-a');
    await h.client.approve(runId, 'plan', { by: 'alice' });
    const result = await h.client.result(runId);
    expect(result).toMatchObject({ output: { note: 'all fine' }, plans: 2 });
    expect(effects.map((e) => e.tool)).toEqual(['lookup_order']);
  });

  it('replans on a denial with a comment while the plan runs, without repeating a side effect', async () => {
    const { runId } = await h.client.startGoal('Refund order G4');
    await waitFor(
      () => h.client.status(runId),
      (v) => v.status === 'waiting' && v.pending[0]?.step === 'ok',
    );
    expect(effects.map((e) => e.tool)).toEqual(['lookup_order']);
    await h.client.deny(runId, 'ok', { by: 'alice', comment: 'refund only half' });
    const result = await h.client.result(runId);
    expect(result).toMatchObject({ output: { amount: 20 }, plans: 2, spec: { name: 'half-refund-g4' } });
    // the lookup ran once: the new plan kept it unchanged, so its output was carried over
    expect(effects.map((e) => e.tool)).toEqual(['lookup_order', 'refund_order']);
    expect(result.steps.order).toMatchObject({ status: 'completed', reason: 'done before the replan: not run again' });
    const replan = h.mock.requests.filter((r) => r.lastUserMessage.startsWith('Goal: Refund order G4'))[1]!;
    expect(replan.lastUserMessage).toContain('"order":{"orderId":"G4","note":"all fine","total":40}');
  });

  it('fails with the last problems when the planner never writes a valid plan; nothing runs', async () => {
    const { runId } = await h.client.startGoal('Hopeless task');
    await expect(h.client.result(runId)).rejects.toThrow(/no valid plan within 3 attempts:\nsteps\[0\]\.tool: unknown tool "launch_rockets"/);
    expect(h.mock.requests.filter((r) => r.lastUserMessage.startsWith('Goal: Hopeless'))).toHaveLength(3);
    expect(effects).toHaveLength(0);
    expect((await h.client.status(runId)).status).toBe('failed');
  });

  it('keeps the step id "plan" for the review, and ends when the plan is denied without a comment', async () => {
    const { runId: reserved } = await h.client.startGoal('Reserved id');
    await expect(h.client.result(reserved)).rejects.toThrow('steps[0].id: the id "plan" is reserved here; use another');

    const { runId: denied } = await h.client.startGoal('Look up order G1 once more', { review: true });
    await waitFor(
      () => h.client.status(denied),
      (v) => v.status === 'waiting',
    );
    await h.client.deny(denied, 'plan', { by: 'bob' });
    await expect(h.client.result(denied)).rejects.toThrow('the plan was denied by bob');
    expect(effects).toHaveLength(0);
  });

  it('on a replan, withdraws what waits for people, lets what runs finish, and keeps it for the new plan', async () => {
    const { runId } = await h.client.startGoal('Tidy up order G5');
    await waitFor(
      () => h.client.status(runId),
      (v) => v.pending.length === 2,
    );
    expect(effects).toHaveLength(0); // the slow check is still running, the refund waits at its gate
    await h.client.deny(runId, 'ok', { by: 'alice', comment: 'nothing big: just look it up' });
    const result = await h.client.result(runId);
    expect(result).toMatchObject({ output: { note: 'all fine' }, plans: 2, spec: { name: 'tidy-g5-b' } });
    // the refund never ran; the slow check ran once, finished after the denial, and the new plan kept it
    expect(effects.map((e) => e.tool)).toEqual(['sleep', 'lookup_order']);
    expect(result.steps.slow).toMatchObject({ status: 'completed', reason: 'done before the replan: not run again' });
    const view = await h.client.status(runId);
    expect(view.earlierPlans).toHaveLength(1);
    expect(view.earlierPlans![0]).toMatchObject({
      plan: 1,
      spec: { name: 'tidy-g5-a' },
      replacedBecause: { step: 'ok', comment: 'nothing big: just look it up' },
      steps: {
        slow: { status: 'completed' },
        ok: { status: 'completed', output: { approved: false, by: 'alice' } }, // a denial is an answer
        big: { status: 'skipped', reason: 'withdrawn: a person asked for a new plan' },
      },
    });
    expect(view.pending).toEqual([]);
  });

  it('on a replan, cancels a called spec still running (it waits for a person of its own)', async () => {
    const { runId } = await h.client.startGoal('Check order G6');
    await waitFor(
      () => h.client.status(runId),
      (v) => v.pending.some((p) => p.step === 'ask'),
    );
    await waitFor(
      // The child may not have started yet when the parent's gate waits: both start in the same turn.
      () => h.client.status(`${runId}.sub`).catch(() => undefined),
      (v) => v?.status === 'waiting',
    );
    await h.client.deny(runId, 'ask', { by: 'alice', comment: 'lookup only' });
    const result = await h.client.result(runId);
    expect(result).toMatchObject({ output: { total: 40 }, plans: 2 });
    const view = await h.client.status(runId);
    expect(view.earlierPlans![0]!.steps.sub).toMatchObject({ status: 'skipped', reason: 'withdrawn: a person asked for a new plan' });
    expect((await h.client.status(`${runId}.sub`)).status).toBe('cancelled');
  });

  it("fails the plan step with the endpoint's reason when the planner cannot call the model", async () => {
    const { runId } = await h.client.startGoal('Unauthorized planner');
    await expect(h.client.result(runId)).rejects.toThrow(/^planning failed: the model endpoint refused the call \(HTTP 401\)/);
    const view = await h.client.status(runId);
    expect(view.steps.plan).toMatchObject({ status: 'failed', reason: expect.stringContaining('HTTP 401') });
    expect(h.mock.requests.filter((r) => r.lastUserMessage.startsWith('Goal: Unauthorized'))).toHaveLength(1);
  });

  it('counts the planner against the token budget', async () => {
    const { runId } = await h.client.startGoal('Look up order G1, cheaply', { budget: { maxTokens: 50 } });
    await expect(h.client.result(runId)).rejects.toThrow(/budget exceeded: maxTokens 50: \d+ LLM tokens used after plan 1/);
    expect(effects).toHaveLength(0);
  });
});
