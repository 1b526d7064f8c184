/**
 * The contract from another language: a Python service using only the official Temporal Python SDK
 * (test/python/refund_service.py) starts a Trellis run, reads its status query, answers an approval and a
 * tool's policy gate with the decide update, gets refusals it can read, and the run's result. The worker is
 * this file's (real activities, a real mock LLM); the Python is the project's own venv (test/helpers/python.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tools, { effects } from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { ensurePython, runPython, type PythonResult } from '../helpers/python.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { refundSpec } from '../unit/helpers.js';

/** A total over 100 (`big...`), so refund_order's policy asks a person; a note the mock LLM reads as damage. */
const ORDER_ID = 'big-PY1-broken';
const REASON = 'the customer says it arrived broken';

interface Stage {
  stage: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Python script's JSON lines, asserted field by field
  [field: string]: any;
}

let h: Harness;
let dir: string;
let workflowId: string;
let run: PythonResult;
let stages: Stage[];

beforeAll(async () => {
  // The first run on a fresh clone installs the venv (15 s to 3 min): meanwhile the worker starts.
  [h] = await Promise.all([startHarness({ tools, rules: [{ match: 'arrived broken', reply: { damaged: true, reason: REASON } }] }), ensurePython()]);
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-python-'));
  const specFile = path.join(dir, 'refund.json');
  await writeFile(specFile, JSON.stringify(refundSpec()));
  workflowId = `python-refund-${randomUUID()}`;
  effects.length = 0;
  run = await runPython(
    'test/python/refund_service.py',
    [
      '--address',
      temporalAddress(),
      '--namespace',
      temporalNamespace(),
      '--task-queue',
      h.taskQueue,
      '--spec',
      specFile,
      '--order-id',
      ORDER_ID,
      '--workflow-id',
      workflowId,
    ],
    {},
    { timeoutMs: 90_000 },
  );
  stages = run.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Stage);
}, 300_000);

afterAll(async () => {
  await h?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 540_000);

/** The stages the script printed, `stage` or `stage:step`, for a readable failure. */
const outline = () => stages.map((s) => (s.step ? `${s.stage}:${s.step}` : s.case ? `${s.stage}:${s.case}` : s.stage));
const stage = (name: string, step?: string) => {
  const found = stages.find((s) => s.stage === name && (step === undefined || s.step === step || s.case === step));
  expect(found, `no stage ${name}${step ? `:${step}` : ''} in ${JSON.stringify(outline())}; stderr:\n${run.stderr}`).toBeDefined();
  return found!;
};

describe('a Python service (temporalio client API only) drives a refund run', () => {
  it('runs to the end, stage after stage', () => {
    expect(run.code, `exit ${run.code}; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    expect(outline()).toEqual([
      'started',
      'waiting:ok',
      'decided:ok',
      'waiting:refund',
      'refused:already_decided',
      'refused:malformed',
      'decided:refund',
      'result',
    ]);
    expect(stage('started').workflowId).toBe(workflowId);
  });

  it('sees the approval wait in the status query, and approves it with the decide update', () => {
    expect(stage('waiting', 'ok').pending).toEqual([
      expect.objectContaining({ step: 'ok', title: `Refund 250 on order ${ORDER_ID}?`, source: 'approval' }),
    ]);
    expect(stage('decided', 'ok').result).toMatchObject({ approved: true, by: 'alice', comment: null, at: expect.any(String) });
  });

  it("answers refund_order's policy gate, and the refund runs once", () => {
    expect(stage('waiting', 'refund').pending).toEqual([expect.objectContaining({ step: 'refund', source: 'policy' })]);
    expect(stage('decided', 'refund').result).toMatchObject({ approved: true, by: 'bob' });
    expect(effects.filter((e) => e.tool === 'refund_order').map((e) => e.args)).toEqual([{ orderId: ORDER_ID, amount: 250 }]);
    expect(effects.filter((e) => e.tool === 'lookup_order')).toHaveLength(1);
  });

  it('gets the RunResult as JSON, and the run reads as completed from TypeScript too', async () => {
    const { result } = stage('result');
    expect(Object.keys(result).sort()).toEqual(['cost', 'executed', 'output', 'steps', 'tokens']);
    expect(result.output).toEqual({ refunded: true, reason: REASON });
    expect(result.steps.refund).toMatchObject({ status: 'completed', output: { refundId: `rf-${ORDER_ID}`, amount: 250 } });
    expect(result.steps.ok).toMatchObject({ status: 'completed', output: { approved: true, by: 'alice' } });
    expect(result.tokens.total).toBeGreaterThan(0);
    expect(result.executed).toBeGreaterThanOrEqual(3);
    expect((await h.client.status(workflowId)).status).toBe('completed');
  });

  // The target contract (being implemented): a refusal is an ApplicationError of type TrellisDecisionRefused,
  // non-retryable, with details[0] = { code, message }, so a client in any language can tell the cases apart.
  it.each([
    ['already_decided', { step: 'ok', approved: true, by: 'carol' }],
    ['malformed', { approved: true, by: 'mallory' }],
  ])('a refused decision (%s) reads as TrellisDecisionRefused with a stable code', (code, sent) => {
    const refused = stage('refused', code);
    expect(refused.sent).toEqual(sent);
    expect(refused.error, JSON.stringify(refused)).toBe('WorkflowUpdateFailedError');
    expect(refused.cause, JSON.stringify(refused)).toMatchObject({
      class: 'ApplicationError',
      type: 'TrellisDecisionRefused',
      non_retryable: true,
      detail: { code, message: expect.any(String) },
    });
  });
});
