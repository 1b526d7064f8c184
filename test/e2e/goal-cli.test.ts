/**
 * Goal runs and promotion as users drive them: real `trellis mock-llm` and `trellis worker --specs` processes,
 * the shared dev server, and `trellis run --goal --review | approve | status | plan --out | run` as processes.
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

const taskQueue = `e2e-goal-${randomUUID()}`;
const children: ChildProcess[] = [];
let env: Record<string, string>;
let dir: string;
let specsDir: string;
let mockUrl: string;

const lookupPlan = {
  version: 1,
  name: 'order-note',
  input: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
  steps: [{ id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: '${input.orderId}' } }],
  output: { note: '${steps.order.note}', total: '${steps.order.total}' },
};

const trellis = (args: string[]) => runCli(args, { env, timeoutMs: 60_000 });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test reads any field of the JSON it asserts
async function statusOf(runId: string): Promise<Record<string, any>> {
  const r = await trellis(['status', runId, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const plannerCalls = async () =>
  ((await (await fetch(`${mockUrl.replace(/\/v1$/, '')}/_mock/requests`)).json()) as Array<{ lastUserMessage: string }>).filter((r) =>
    r.lastUserMessage.startsWith('Goal:'),
  ).length;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-e2e-goal-'));
  specsDir = path.join(dir, 'specs');
  const script = path.join(dir, 'mock-llm.json');
  await writeFile(script, JSON.stringify([{ match: '^Goal: Read the note of an order', reply: lookupPlan }]));
  const mock = await startDaemon(['mock-llm', '--script', script], children);
  mockUrl = mock;
  env = { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: temporalNamespace(), TRELLIS_TASK_QUEUE: taskQueue, OPENAI_BASE_URL: mockUrl };
  await startDaemon(['worker', '--tools', 'examples/tools.ts', '--specs', specsDir], children, { ...env, TRELLIS_LOG_LEVEL: 'info' });
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await rm(dir, { recursive: true, force: true });
});

describe('trellis run --goal', () => {
  it('--review waits for the plan to be approved from another process (a denial with a comment plans again), then runs it', async () => {
    const started = await trellis(['run', '--goal', 'Read the note of an order', '--review', '--input', '{"orderId":"A-1002"}', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout);
    const waiting = await waitFor(
      () => statusOf(runId),
      (v) => v.status === 'waiting',
      CLI_POLL,
    );
    expect(waiting).toMatchObject({ goal: 'Read the note of an order', spec: { name: 'order-note' }, pending: [{ step: 'plan' }] });
    expect(waiting.pending[0].details).toContain('- order (tool): lookup_order {"orderId":"${input.orderId}"}');
    const human = await trellis(['status', runId]);
    expect(human.stdout).toContain('the plan:');
    expect(human.stdout).toContain(`trellis approve ${runId} plan --by NAME [--deny --comment "what to change"]`);

    const denied = await trellis(['approve', runId, 'plan', '--deny', '--comment', 'say which order', '--by', 'bob']);
    expect(denied.code, denied.stderr).toBe(0);
    const again = await waitFor(
      () => statusOf(runId),
      (v) => v.status === 'waiting' && v.earlierPlans?.length === 1,
      CLI_POLL,
    );
    expect(again.earlierPlans[0]).toMatchObject({
      plan: 1,
      spec: { name: 'order-note' },
      replacedBecause: { step: 'plan', comment: 'say which order' },
    });
    const replanned = await trellis(['status', runId]);
    expect(replanned.stdout).toContain('  plan 1 (order-note), replaced: plan denied with "say which order"');
    expect(replanned.stdout).toContain('  plan 2 (order-note):');

    const approved = await trellis(['approve', runId, 'plan', '--by', 'alice']);
    expect(approved.code, approved.stderr).toBe(0);
    const done = await waitFor(
      () => statusOf(runId),
      (v) => v.status === 'completed',
      CLI_POLL,
    );
    expect(done.output).toMatchObject({ note: expect.stringContaining('broken') });
  });

  it('--wait exits 0 with the output; bad flags exit 2', async () => {
    const r = await trellis(['run', '--goal', 'Read the note of an order', '--input', '{"orderId":"A-1001"}', '--wait', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', output: { total: expect.any(Number) } });

    const both = await trellis(['run', 'examples/refund.json', '--goal', 'x']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give a spec FILE or --goal GOAL (one of them)');
    const badBudget = await trellis(['run', '--goal', 'x', '--max-steps', '0']);
    expect(badBudget.code).toBe(2);
    expect(badBudget.stderr).toContain('--max-steps must be a whole number above 0, got "0"');
  });
});

describe('promotion', () => {
  it('a plan saved with plan --out runs again as a fixed spec with no planning call, and by name from a call step', async () => {
    const saved = path.join(specsDir, 'order-note.json');
    const planned = await trellis(['plan', 'Read the note of an order', '--tools', 'examples/tools.ts', '--out', saved]);
    expect(planned.code, planned.stderr).toBe(0);
    const before = await plannerCalls();

    const fixed = await trellis(['run', saved, '--input', '{"orderId":"A-1002"}', '--wait', '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(JSON.parse(fixed.stdout).output).toMatchObject({ note: expect.stringContaining('broken') });

    const parent = path.join(dir, 'parent.json');
    await writeFile(
      parent,
      JSON.stringify({
        version: 1,
        name: 'parent',
        steps: [{ id: 'note', kind: 'call', spec: 'order-note', input: { orderId: 'A-1002' } }],
        output: '${steps.note.note}',
      }),
    );
    const checked = await trellis(['validate', parent, '--tools', 'examples/tools.ts', '--specs', specsDir]);
    expect(checked.stdout.trim(), checked.stderr).toBe('valid');
    const typo = path.join(dir, 'typo.json');
    await writeFile(
      typo,
      JSON.stringify({ version: 1, name: 'typo', steps: [{ id: 'note', kind: 'call', spec: 'order-nte', input: { orderId: 'A-1002' } }] }),
    );
    const unknown = await trellis(['validate', typo, '--specs', specsDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('steps[0].spec: unknown spec "order-nte" (did you mean "order-note"?)');

    const called = await trellis(['run', parent, '--wait', '--json', '--specs', specsDir]);
    expect(called.code, called.stderr).toBe(0);
    expect(JSON.parse(called.stdout).output).toContain('broken');
    expect(await plannerCalls()).toBe(before);
  });
});
