/**
 * A worker's Prometheus endpoint as a scraper sees it: a real `trellis worker` with TRELLIS_METRICS_PORT and webhooks,
 * the refund flow run and answered through the CLI (one refused answer, then an approval), and `/metrics` read over
 * HTTP: Temporal's runtime metrics and Trellis's own, with the values this one run must have left. The worker keeps no
 * run in its cache, so it replays the run on every task: the counts are exact only if a replay records nothing.
 */
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TokenUsage } from '../../src/engine/state.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { runCli, startDaemon } from '../helpers/cli.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { CLI_POLL, waitFor } from '../helpers/wait.js';

const taskQueue = `metrics-${randomUUID()}`;
const children: ChildProcess[] = [];
let env: Record<string, string>;
let metricsUrl: string;
let receiver: Server;
let posts = 0;

const trellis = (args: string[]) => runCli(args, { env, timeoutMs: 60_000 });

/** The samples of `/metrics` whose name is `name`, as `{ labels, value }`. */
async function samples(name: string): Promise<Array<{ labels: Record<string, string>; value: number }>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (xs: Array<{ value: number }>) => xs.reduce((a, x) => a + x.value, 0);

beforeAll(async () => {
  // The first post fails, so one delivery fails and its retry is delivered.
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(++posts === 1 ? 503 : 204).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const mock = await startDaemon(['mock-llm', '--script', 'examples/mock-llm.json'], children);
  env = {
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    TRELLIS_TASK_QUEUE: taskQueue,
    OPENAI_BASE_URL: mock,
    TRELLIS_MODEL: 'gpt-4o-mini',
  };
  await startDaemon(['worker', '--tools', 'examples/tools.ts'], children, {
    ...env,
    TRELLIS_LOG_LEVEL: 'info',
    TRELLIS_METRICS_PORT: `127.0.0.1:${port}`,
    // No cache: every workflow task replays the run from its start, so exact counts show replays count nothing.
    TRELLIS_MAX_CACHED_WORKFLOWS: '0',
    TRELLIS_WEBHOOKS: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    TRELLIS_WEBHOOK_SECRET: `whsec_${Buffer.from('metrics test secret, 32 bytes..').toString('base64')}`,
  });
}, 90_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await new Promise((r) => receiver?.close(r));
});

it("serves Temporal's and Trellis's metrics for a run at TRELLIS_METRICS_PORT", async () => {
  const runId = `metrics-${randomUUID()}`;
  const started = await trellis(['run', 'examples/refund.json', '--input', '{"orderId":"A-1002"}', '--id', runId, '--json']);
  expect(started.code, started.stderr).toBe(0);
  await waitFor(
    async () => JSON.parse((await trellis(['status', runId, '--json'])).stdout) as { status: string },
    (v) => v.status === 'waiting',
    CLI_POLL,
  );
  const refused = await trellis(['approve', runId, 'refund', '--by', 'alice']);
  expect(refused.code).not.toBe(0);
  const approved = await trellis(['approve', runId, 'ok', '--by', 'alice']);
  expect(approved.code, approved.stderr).toBe(0);
  const done = await waitFor(
    async () => JSON.parse((await trellis(['status', runId, '--json'])).stdout) as { status: string; steps: Record<string, { tokens?: TokenUsage }> },
    (v) => v.status === 'completed',
    CLI_POLL,
  );
  // Metrics are exported as they are recorded; the run's last notification may still be on its way.
  const runs = await waitFor(
    () => samples('trellis_runs_ended_total'),
    (s) => sum(s.filter((x) => x.labels.status === 'completed')) >= 1,
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  // The SDK tags workflow metrics with its own names (taskQueue, workflowType), its core metrics with task_queue.
  expect(runs.find((x) => x.labels.status === 'completed')!.labels.taskQueue).toBe(taskQueue);

  const steps = await samples('trellis_steps_total');
  const of = (kind: string, outcome: string) => sum(steps.filter((x) => x.labels.kind === kind && x.labels.outcome === outcome));
  expect(of('tool', 'completed')).toBe(2); // order, refund
  expect(of('llm', 'completed')).toBe(1);
  expect(of('approval', 'completed')).toBe(1);
  expect(sum(await samples('trellis_step_latency_count'))).toBe(4);
  const waits = await samples('trellis_approval_wait_count');
  expect(sum(waits.filter((x) => x.labels.outcome === 'approved'))).toBe(1);
  expect(await samples('trellis_answers_refused_total')).toMatchObject([{ labels: { code: 'not_waiting' }, value: 1 }]);

  const notes = await waitFor(
    () => samples('trellis_notifications_total'),
    (s) => sum(s.filter((x) => x.labels.outcome === 'delivered')) >= 3, // waiting, decided, completed
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  expect(sum(notes.filter((x) => x.labels.outcome === 'failed'))).toBe(1);

  // The llm step's one call, priced by the default table (gpt-4o-mini: $0.15 and $0.60 per million tokens).
  const tokens = done.steps.assess!.tokens!;
  expect(tokens.prompt).toBeGreaterThan(0);
  const billed = await samples('trellis_model_tokens_total');
  expect(billed.filter((x) => x.labels.model === 'gpt-4o-mini').map((x) => [x.labels.type, x.value])).toEqual(
    expect.arrayContaining([
      ['input', tokens.prompt],
      ['output', tokens.completion],
    ]),
  );
  expect(await samples('trellis_model_calls_total')).toMatchObject([{ labels: { model: 'gpt-4o-mini', priced: 'true' }, value: 1 }]);
  const [spent] = await samples('trellis_model_call_cost_sum');
  expect(spent!.value).toBeCloseTo((tokens.prompt * 0.15 + tokens.completion * 0.6) / 1_000_000, 12);

  // Temporal's own, from the same endpoint.
  expect(sum(await samples('temporal_workflow_completed_total'))).toBeGreaterThanOrEqual(1);
  expect((await samples('temporal_activity_execution_latency_count')).length).toBeGreaterThan(0);
}, 120_000);
