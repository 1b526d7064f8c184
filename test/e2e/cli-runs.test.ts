/**
 * The run commands as users drive them: real `trellis mock-llm` and `trellis worker` processes, the shared
 * Temporal dev server, and `trellis run | status | approve | list | cancel` as separate processes.
 */
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startDaemon } from '../helpers/cli.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { CLI_POLL, waitFor } from '../helpers/wait.js';

const taskQueue = `e2e-${randomUUID()}`;
const children: ChildProcess[] = [];
let env: Record<string, string>;
let dir: string;

const trellis = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, timeoutMs: 60_000 });

async function statusOf(runId: string): Promise<{
  status: string;
  pending: Array<{ step: string; title: string }>;
  output: unknown;
  steps: Record<string, { status: string; output: unknown }>;
}> {
  const r = await trellis(['status', runId, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-e2e-runs-'));
  const mock = await startDaemon(['mock-llm', '--script', 'examples/mock-llm.json'], children);
  expect(mock).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  env = {
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    TRELLIS_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: mock,
  };
  await startDaemon(['worker', '--tools', 'examples/tools.ts'], children, { ...env, TRELLIS_LOG_LEVEL: 'info' }); // its first line: "worker ready"
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await rm(dir, { recursive: true, force: true });
});

describe('trellis run, status, approve', () => {
  it('runs the refund flow: waiting for a person, approved from another process, completed', async () => {
    const started = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":"A-1002"}', '--json', '--tools', 'examples/tools.ts']);
    expect(started.code, started.stderr).toBe(0);
    const { runId, status } = JSON.parse(started.stdout);
    expect(status).toBe('running');

    const waiting = await waitFor(
      () => statusOf(runId),
      (v) => v.status === 'waiting',
      CLI_POLL,
    );
    expect(waiting.pending).toEqual([
      {
        step: 'ok',
        title: 'Refund 80 on order A-1002?',
        deadline: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        askedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        source: 'approval',
      },
    ]);
    expect(waiting.steps.assess).toEqual({
      status: 'completed',
      output: { damaged: true, reason: 'The customer reports that the item arrived broken.' },
      attempts: 1,
      tokens: expect.any(Object),
      cost: expect.any(Object),
    });

    const human = await trellis(['status', runId]);
    expect(human.stdout).toContain(`trellis approve ${runId} ok`);

    const approved = await trellis(['approve', runId, 'ok', '--by', 'alice', '--comment', 'photos attached']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.trim()).toBe(`approved ok of ${runId} as alice`);

    const done = await waitFor(
      () => statusOf(runId),
      (v) => v.status === 'completed',
      CLI_POLL,
    );
    expect(done.output).toEqual({ refunded: true, reason: 'The customer reports that the item arrived broken.' });
    expect(done.steps.ok!.output).toMatchObject({ approved: true, by: 'alice', comment: 'photos attached' });
  });

  it('--wait --json prints the result and exits 0 for a completed run', async () => {
    const r = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":"A-1001"}', '--wait', '--json', '--id', `wait-${randomUUID()}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: 'completed',
      output: { refunded: false, reason: 'The customer does not report any damage.' },
    });
  });

  it('--wait exits 1 for a failed run, naming the step', async () => {
    const spec = path.join(dir, 'fails.json');
    await writeFile(
      spec,
      JSON.stringify({
        version: 1,
        name: 'fails',
        steps: [{ id: 'ask', kind: 'llm', prompt: 'nothing in the script matches this', retry: { maxAttempts: 1 } }],
      }),
    );
    const r = await trellis(['run', spec, '--wait', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('failed');
    expect(out.error).toMatch(/step "ask" failed: 500 mock-llm: no rule matches the prompt "nothing in the script matches this"/);
  });

  it('refuses an answer for a step that does not wait, with exit 1 and the reason', async () => {
    const r = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":"A-1006"}', '--json']);
    const { runId } = JSON.parse(r.stdout);
    await waitFor(
      () => statusOf(runId),
      (v) => v.status === 'waiting',
      CLI_POLL,
    );
    const wrong = await trellis(['approve', runId, 'refund', '--by', 'alice']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe('refused (not_waiting): step "refund" is not waiting for a person (it is pending)');

    const listed = await trellis(['list', '--status', 'waiting', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ runId, status: 'waiting', name: 'refund-damaged-order' })]),
    );

    const cancelled = await trellis(['cancel', runId]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    const view = await waitFor(
      () => statusOf(runId),
      (v) => v.status === 'cancelled',
      CLI_POLL,
    );
    expect(view.status).toBe('cancelled');
  });

  it('starts nothing for an invalid spec or input', async () => {
    const badInput = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":5}']);
    expect(badInput.code).toBe(1);
    expect(badInput.stderr.trim()).toBe('input.orderId: expected string, got number 5');
    const notJson = await trellis(['run', 'examples/refund.json', '--input', '{orderId']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^trellis: --input is not JSON/);
    // 1e309 parses as Infinity, which used to read as "expected number, got number null", or travel as null.
    const huge = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":"A-1","tip":1e309}']);
    expect(huge.code).toBe(2);
    expect(huge.stderr.trim()).toBe(
      'trellis: --input: input.tip: a number too large for JSON (it reads as Infinity); write a smaller number, or a string',
    );
  });
});

describe('the Temporal contract from the command line', () => {
  it('run --id with an id that has run is refused with exit 1, naming the run; nothing runs again', async () => {
    const id = `e2e-once-${randomUUID().slice(0, 8)}`;
    const first = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":"A-1001"}', '--id', id, '--wait', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const again = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":"A-1001"}', '--id', id, '--wait']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toMatch(
      new RegExp(
        `^a run with id "${id}" already exists \\(completed, started [^)]+\\): nothing was started, so no side effect is repeated; choose another id$`,
      ),
    );
    const runs = JSON.parse((await trellis(['list', '--status', 'completed', '--json'])).stdout) as Array<{ runId: string }>;
    expect(runs.filter((r) => r.runId === id)).toHaveLength(1);
  });

  it('an anonymous answer is refused (exit 1, the code named); status --json is the documented view', async () => {
    const r = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":"A-1004"}', '--json']);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    const view = await waitFor(
      () => statusOf(runId),
      (v) => v.status === 'waiting',
      CLI_POLL,
    );
    expect(Object.keys(view).sort()).toEqual([
      'cost',
      'executed',
      'name',
      'output',
      'pending',
      'runId',
      'status',
      'steps',
      'temporalRunId',
      'tokens',
    ]);
    const anonymous = await trellis(['approve', runId, 'ok']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr.trim()).toBe(
      'refused (anonymous): step "ok" takes an answer only with who gives it: set "by" (trellis approve ... --by NAME)',
    );
    expect((await trellis(['cancel', runId])).code).toBe(0);
  });

  it('schema prints the contract: the run argument, a decision, the status view; two flags are bad usage', async () => {
    const decision = await trellis(['schema', '--decision']);
    expect(decision.code, decision.stderr).toBe(0);
    expect(JSON.parse(decision.stdout)).toMatchObject({
      title: 'decision',
      type: 'object',
      required: ['step', 'approved'],
      additionalProperties: false,
      properties: { approved: { type: 'boolean' }, step: { type: 'string', maxLength: 64 } },
    });
    const args = JSON.parse((await trellis(['schema', '--run-args'])).stdout) as { properties: Record<string, { title?: string }> };
    expect(Object.keys(args.properties).sort()).toEqual(['callDepth', 'input', 'options', 'spec']);
    expect(args.properties.spec!.title).toBe('Trellis workflow spec v1');
    const status = JSON.parse((await trellis(['schema', '--status'])).stdout) as { properties: { status: { enum: string[] } } };
    expect(status.properties.status.enum).toEqual(['running', 'waiting', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out']);
    const both = await trellis(['schema', '--decision', '--status']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toBe('trellis: give one schema flag at a time, got --decision and --status');
  });
});

describe('no connection, bad scripts', () => {
  it('exits 2 and says how to start Temporal when there is no server', async () => {
    const r = await trellis(['status', 'anything'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1.*trellis dev/s);
  });

  it('mock-llm refuses a bad script with exit 2, naming the rule', async () => {
    const script = path.join(dir, 'bad-script.json');
    await writeFile(script, JSON.stringify([{ match: '(', reply: 'x' }]));
    const r = await trellis(['mock-llm', '--script', script]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[0].match: not a valid regular expression');
  });
});
